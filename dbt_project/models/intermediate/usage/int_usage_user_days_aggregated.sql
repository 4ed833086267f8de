-- Usage events condensed to one row per account, user and day: the window measures count distinct users
-- and days, so this is the finest grain they need, at a fraction of the event volume.
select
    account_id,
    user_id,
    occurred_date as activity_date,
    count(*) as event_count
from {{ ref('stg_product__usage_events') }}
group by account_id, user_id, occurred_date
