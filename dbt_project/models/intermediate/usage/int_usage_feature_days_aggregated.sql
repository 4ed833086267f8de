-- Usage events condensed to one row per account, feature and day, for feature breadth.
select
    account_id,
    feature_name,
    occurred_date as activity_date,
    count(*) as event_count
from {{ ref('stg_product__usage_events') }}
group by account_id, feature_name, occurred_date
