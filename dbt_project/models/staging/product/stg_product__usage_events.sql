-- Product usage events, typed (UTC) and de-duplicated: an event re-sent in several files counts once per
-- day, the row from the latest file (by name, then line) winning. Materialised and built incrementally by
-- event day, because it is by far the largest source: a build re-reads only the days whose landed rows
-- changed since the last one (see macros/landed_changes.sql) and replaces exactly those days.
{{ config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    **incremental_replacement(
        'occurred_date', deleted_where="{{ in_date_ranges('occurred_date', changed_event_date_ranges('usage_events')) }}"
    ),
) }}

{%- set changed_ranges = changed_event_date_ranges('usage_events') if is_incremental() else none %}

with landed as (
    select
        *,
        cast(occurred_at as date) as occurred_date
    from {{ source('product', 'usage_events') }}
    {%- if is_incremental() %}
    where {{ in_date_ranges('occurred_at', changed_ranges, as_timestamp=true) }}
    {%- endif %}
),

source as (
    {{ latest_landed_rows('landed', ['occurred_date', 'event_id']) }}
),

renamed as (
    select
        event_id,
        account_id,
        user_id,
        feature as feature_name,
        cast(duration_seconds as integer) as duration_seconds,
        occurred_date,
        cast(occurred_at as timestamp) as occurred_at,
        {{ landed_changes_through('usage_events') }} as _landed_changes_through
    from source
)

select * from renamed
