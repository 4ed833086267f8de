-- Guards the completeness of the daily history: each account has a row for every day from its first to its last scored day, and every current account reaches the last scored day (a churned account stops before its cancellation). Duplicate days fail the history's unique_combination test.
{{ config(meta={'dagster': {'ref': {'name': 'account_health_history'}}}) }}

with per_account as (
    select
        account_id,
        count(distinct score_date) as scored_days,
        min(score_date) as first_score_date,
        max(score_date) as last_score_date
    from {{ ref('account_health_history') }}
    group by account_id
),

last_day as (
    select max(score_date) as score_date from {{ ref('account_health_history') }}
),

current_accounts as (
    select account_id from {{ ref('account_health_scores') }} where not is_churned
),

validation_errors as (
    select
        account_id,
        'missing days' as problem,
        {{ dbt.datediff('first_score_date', 'last_score_date', 'day') }} + 1 - scored_days as days
    from per_account
    where {{ dbt.datediff('first_score_date', 'last_score_date', 'day') }} + 1 <> scored_days

    union all

    select
        current_accounts.account_id,
        'not scored on the last day' as problem,
        coalesce({{ dbt.datediff('per_account.last_score_date', 'last_day.score_date', 'day') }}, 1) as days
    from current_accounts
    cross join last_day
    left join per_account
        on current_accounts.account_id = per_account.account_id
    where per_account.last_score_date is null
       or per_account.last_score_date < last_day.score_date
)

select * from validation_errors
