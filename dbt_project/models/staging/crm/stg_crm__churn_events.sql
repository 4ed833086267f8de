with source as (
    {{ latest_landed_rows(source('crm', 'churn_events'), ['account_id', 'churned_at', 'churn_type']) }}
),

renamed as (
    select
        {{ dbt.hash("account_id || '|' || cast(churned_at as " ~ dbt.type_string() ~ ") || '|' || churn_type") }} as churn_event_id,
        account_id,
        churn_type,
        reason as churn_reason,
        cast(arr_lost as decimal(18, 2)) as arr_lost_amount,
        churn_type = 'cancellation' as is_cancellation,
        cast(churned_at as date) as churned_date
    from source
)

select * from renamed
