-- Guards the completeness of the daily history: each account has exactly one row for every day from its first to its last scored day (no gap, no duplicate, over the whole history), and every current account reaches the last scored day (a churned account stops before its cancellation).
{{ config(meta={'dagster': {'ref': {'name': 'account_health_history'}}}) }}

with per_account as (
    -- Rows, not distinct days: a count of distinct days costs ten times as much at 3.65 M account-days,
    -- and rows against the days of the span catch a duplicate as well as a gap.
    select
        account_id,
        count(*) as history_rows,
        min(score_date) as first_score_date,
        max(score_date) as last_score_date
    from {{ ref('account_health_history') }}
    group by account_id
),

spans as (
    select
        *,
        {{ dbt.datediff('first_score_date', 'last_score_date', 'day') }} + 1 as span_days
    from per_account
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
        case when history_rows < span_days then 'missing days' else 'duplicate days' end as problem,
        abs(span_days - history_rows) as days
    from spans
    where history_rows <> span_days

    union all

    select
        current_accounts.account_id,
        'not scored on the last day' as problem,
        coalesce({{ dbt.datediff('spans.last_score_date', 'last_day.score_date', 'day') }}, 1) as days
    from current_accounts
    cross join last_day
    left join spans
        on current_accounts.account_id = spans.account_id
    where spans.last_score_date is null
       or spans.last_score_date < last_day.score_date
)

select * from validation_errors
