with source as (
    {{ latest_landed_rows(source('onboarding', 'milestones'), ['account_id', 'milestone']) }}
),

renamed as (
    select
        account_id || '|' || milestone as account_milestone_id,
        account_id,
        milestone as milestone_name,
        cast(target_date as date) as target_date,
        cast(achieved_date as date) as achieved_date
    from source
)

select * from renamed
