-- Guards that every current account outside the healthy band has exactly one primary action and an action
-- for its top driver, and that no other account has any.
with unhealthy_accounts as (
    select account_id
    from {{ ref('account_health_scores') }}
    where not is_churned
      and health_band <> {{ alert_setting('healthy_band') }}
),

per_account as (
    select
        account_id,
        sum(case when is_primary then 1 else 0 end) as primary_actions,
        sum(case when trigger_type in ('driver', 'component') then 1 else 0 end) as driver_actions
    from {{ ref('account_actions') }}
    group by account_id
),

validation_errors as (
    select
        coalesce(unhealthy_accounts.account_id, per_account.account_id) as account_id,
        case
            when unhealthy_accounts.account_id is null then 'actions for an account that is healthy, churned or unscored'
            when per_account.account_id is null then 'no action'
            when per_account.primary_actions <> 1 then cast(per_account.primary_actions as {{ dbt.type_string() }}) || ' primary actions'
            else cast(per_account.driver_actions as {{ dbt.type_string() }}) || ' actions for the top driver'
        end as reason
    from unhealthy_accounts
    full outer join per_account
        on unhealthy_accounts.account_id = per_account.account_id
    where unhealthy_accounts.account_id is null
       or per_account.account_id is null
       or per_account.primary_actions <> 1
       or per_account.driver_actions <> 1
)

select * from validation_errors
