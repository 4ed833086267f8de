-- Usage events condensed to one row per account, feature and day, for feature breadth. Built
-- incrementally: only the days whose landed events changed are condensed again.
{{ config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    **incremental_replacement(
        'activity_date', deleted_where="{{ in_date_ranges('activity_date', changed_event_date_ranges('usage_events')) }}"
    ),
) }}

select
    account_id,
    feature_name,
    occurred_date as activity_date,
    count(*) as event_count,
    max(_landed_changes_through) as _landed_changes_through
from {{ ref('stg_product__usage_events') }}
{%- if is_incremental() %}
where {{ in_date_ranges('occurred_date', changed_event_date_ranges('usage_events')) }}
{%- endif %}
group by account_id, feature_name, occurred_date
