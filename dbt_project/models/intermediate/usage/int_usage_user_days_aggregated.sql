-- Usage events condensed to one row per account, user and day: the window measures count distinct users
-- and days, so this is the finest grain they need, at a fraction of the event volume. Built
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
    user_id,
    occurred_date as activity_date,
    count(*) as event_count,
    max(_landed_changes_through) as _landed_changes_through
from {{ ref('stg_product__usage_events') }}
{%- if is_incremental() %}
where {{ in_date_ranges('occurred_date', changed_event_date_ranges('usage_events')) }}
{%- endif %}
group by account_id, user_id, occurred_date
