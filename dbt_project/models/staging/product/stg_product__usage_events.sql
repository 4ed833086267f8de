with source as (
    {{ latest_landed_rows(source('product', 'usage_events'), ['event_id']) }}
),

renamed as (
    select
        event_id,
        account_id,
        user_id,
        feature as feature_name,
        cast(duration_seconds as integer) as duration_seconds,
        cast(occurred_at as date) as occurred_date,
        cast(occurred_at as timestamp) as occurred_at
    from source
)

select * from renamed
