-- Guards the explanation of every score: component contributions plus the cap adjustment equal the health score exactly, and so do the measure contributions, which every scored account-day has (on the days this build scored).
{{ config(meta={'dagster': {'ref': {'name': 'account_health_history'}}}) }}

with scored_days as (
    select min(score_date) as first_score_date
    from {{ ref('int_account_days_assigned') }}
    where is_history_day
),

measure_sums as (
    select account_id, score_date, sum(contribution) as measure_contribution_sum
    from {{ ref('fct_health_score_contributions') }}
    where score_date >= (select first_score_date from scored_days)
    group by account_id, score_date
),

validation_errors as (
    select
        history.account_id,
        history.score_date,
        history.health_score,
        history.usage_contribution + history.support_contribution + history.payment_contribution
            + history.feedback_contribution + history.milestones_contribution + history.cap_adjustment
            as component_sum,
        measure_sums.measure_contribution_sum + history.cap_adjustment as measure_sum
    from {{ ref('account_health_history') }} as history
    -- A left join: a score without measure contributions is unexplained, and its component sum still counts.
    left join measure_sums
        on history.account_id = measure_sums.account_id
        and history.score_date = measure_sums.score_date
    where history.health_score is not null
      and history.score_date >= (select first_score_date from scored_days)
      and (
        measure_sums.account_id is null
        or history.health_score <> history.usage_contribution + history.support_contribution
            + history.payment_contribution + history.feedback_contribution + history.milestones_contribution
            + history.cap_adjustment
        or history.health_score <> measure_sums.measure_contribution_sum + history.cap_adjustment
      )
)

select * from validation_errors
