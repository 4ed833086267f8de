-- One row per account with the day it is scored for: the as-of day, or the day before a cancellation
-- that took effect on or before it, so a churned account keeps the score it had as a customer.
with accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

as_of as (
    select {{ score_as_of_date() }} as as_of_date
),

cancellations as (
    select
        churn.account_id,
        max(churn.churned_date) as churned_date
    from {{ ref('stg_crm__churn_events') }} as churn
    cross join as_of
    where churn.is_cancellation
      and churn.churned_date <= as_of.as_of_date
    group by churn.account_id
),

enriched as (
    select
        accounts.account_id,
        accounts.account_name,
        accounts.segment,
        accounts.plan_name,
        accounts.country_code,
        accounts.currency_code,
        accounts.csm_owner,
        accounts.crm_lifecycle_stage as lifecycle_stage,
        accounts.arr_amount,
        accounts.licensed_seats,
        cancellations.account_id is not null as is_churned,
        accounts.contract_start_date,
        accounts.renewal_date,
        cancellations.churned_date,
        as_of.as_of_date,
        case
            when cancellations.churned_date is not null
                then cast({{ dbt.dateadd('day', -1, 'cancellations.churned_date') }} as date)
            else as_of.as_of_date
        end as scored_date
    from accounts
    cross join as_of
    left join cancellations
        on accounts.account_id = cancellations.account_id
)

select * from enriched
