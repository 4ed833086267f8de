with source as (
    {{ latest_landed_rows(source('helpdesk', 'support_tickets'), ['ticket_id']) }}
),

renamed as (
    select
        ticket_id,
        account_id,
        priority as ticket_priority,
        category as ticket_category,
        status as ticket_status,
        cast(csat_rating as integer) as csat_rating,
        priority in ('high', 'urgent') as is_high_priority,
        cast(opened_at as date) as opened_date,
        cast(resolved_at as date) as resolved_date,
        cast(opened_at as timestamp) as opened_at,
        cast(first_response_at as timestamp) as first_response_at,
        cast(resolved_at as timestamp) as resolved_at
    from source
)

select * from renamed
