-- What the score said before the outcome was known, and what happened next: the observations the backtest
-- judges the score by. Two questions, each an `outcome`:
-- - churn_within_horizon: observed on every month end, did the account cancel within `horizon_days` after
--   a lead of `horizon_lead_days` (a cancellation inside the lead was decided before the score could warn)?
--   Only month ends whose whole outcome window lies within the history count (a window still open would
--   label accounts that are yet to cancel as staying).
-- - churn_at_renewal: observed `renewal_lead_days` before each contract anniversary, did the account cancel
--   by the anniversary (or within `renewal_grace_days` after it)?
-- Every observation is a scored day of the history, so it carries only what was known on that day (the
-- history is point in time), with the configuration version that scored it. Besides the score and its
-- components, the plain formula of seeds/backtest_baseline_weights.csv is computed from the same
-- component scores as the baseline the scorecards must beat.
with history as (
    select * from {{ ref('account_health_history') }}
),

cancellations as (
    select * from {{ ref('int_account_cancellations_dated') }}
),

bounds as (
    select
        max(score_date) as last_score_date,
        {{ seed_setting('backtest_settings', 'horizon_days', 'integer') }} as horizon_days,
        {{ seed_setting('backtest_settings', 'horizon_lead_days', 'integer') }} as horizon_lead_days,
        {{ seed_setting('backtest_settings', 'renewal_lead_days', 'integer') }} as renewal_lead_days,
        {{ seed_setting('backtest_settings', 'renewal_grace_days', 'integer') }} as renewal_grace_days
    from history
),

baseline_weights as (
    select
        max(case when component = 'usage' then weight end) as usage_weight,
        max(case when component = 'support' then weight end) as support_weight,
        max(case when component = 'payment' then weight end) as payment_weight,
        max(case when component = 'feedback' then weight end) as feedback_weight,
        max(case when component = 'milestones' then weight end) as milestones_weight
    from {{ ref('backtest_baseline_weights') }}
),

month_end_observations as (
    select
        'churn_within_horizon' as outcome,
        history.account_id,
        history.score_date as observed_date,
        cast({{ dbt.dateadd('day', 'bounds.horizon_lead_days', 'history.score_date') }} as date) as outcome_start_date,
        cast({{ dbt.dateadd('day', '(bounds.horizon_lead_days + bounds.horizon_days)', 'history.score_date') }} as date)
            as outcome_end_date
    from history
    cross join bounds
    where {{ dbt.date_trunc('month', dbt.dateadd('day', 1, 'history.score_date')) }}
            = {{ dbt.dateadd('day', 1, 'history.score_date') }}
      and {{ dbt.dateadd('day', '(bounds.horizon_lead_days + bounds.horizon_days)', 'history.score_date') }}
            <= bounds.last_score_date
),

-- Contract anniversaries of the version valid on each day (the first version also stands for the days
-- before it was recorded, as in scoring); the observation day is the lead before one.
renewal_days as (
    select
        history.account_id,
        history.score_date,
        cast({{ dbt.dateadd(
            'year',
            '(cast(floor(' ~ dbt.datediff('versions.contract_start_date', 'history.score_date', 'day') ~ ' / 365.25) as integer) + 1)',
            'versions.contract_start_date'
        ) }} as date) as next_anniversary_date
    from history
    inner join {{ ref('dim_account_versions') }} as versions
        on history.account_id = versions.account_id
        and {{ version_valid_on('versions', 'history.score_date') }}
),

renewal_observations as (
    select
        'churn_at_renewal' as outcome,
        renewal_days.account_id,
        renewal_days.score_date as observed_date,
        renewal_days.score_date as outcome_start_date,
        cast({{ dbt.dateadd('day', 'bounds.renewal_grace_days', 'renewal_days.next_anniversary_date') }} as date)
            as outcome_end_date
    from renewal_days
    cross join bounds
    where renewal_days.score_date
            = cast({{ dbt.dateadd('day', '(-1 * bounds.renewal_lead_days)', 'renewal_days.next_anniversary_date') }} as date)
      and {{ dbt.dateadd('day', 'bounds.renewal_grace_days', 'renewal_days.next_anniversary_date') }}
            <= bounds.last_score_date
),

observations as (
    select * from month_end_observations
    union all
    select * from renewal_observations
),

final as (
    select
        observations.outcome || '|' || observations.account_id || '|'
            || cast(observations.observed_date as {{ dbt.type_string() }}) as observation_id,
        observations.outcome,
        observations.account_id,
        history.segment,
        history.scorecard,
        history.config_version,
        history.health_band,
        cast(history.health_score as double) as health_score,
        cast(history.usage_score as double) as usage_score,
        cast(history.support_score as double) as support_score,
        cast(history.payment_score as double) as payment_score,
        cast(history.feedback_score as double) as feedback_score,
        cast(history.milestones_score as double) as milestones_score,
        -- Rounded like the scores: a weighted average of 100s must not come out a hair above 100.
        round((
            coalesce(baseline_weights.usage_weight * cast(history.usage_score as double), 0)
            + coalesce(baseline_weights.support_weight * cast(history.support_score as double), 0)
            + coalesce(baseline_weights.payment_weight * cast(history.payment_score as double), 0)
            + coalesce(baseline_weights.feedback_weight * cast(history.feedback_score as double), 0)
            + coalesce(baseline_weights.milestones_weight * cast(history.milestones_score as double), 0)
        ) / nullif(
            case when history.usage_score is not null then baseline_weights.usage_weight else 0 end
            + case when history.support_score is not null then baseline_weights.support_weight else 0 end
            + case when history.payment_score is not null then baseline_weights.payment_weight else 0 end
            + case when history.feedback_score is not null then baseline_weights.feedback_weight else 0 end
            + case when history.milestones_score is not null then baseline_weights.milestones_weight else 0 end,
            0
        ), 6) as plain_formula_score,
        cancellations.churned_date,
        coalesce(
            cancellations.churned_date > observations.outcome_start_date
            and cancellations.churned_date <= observations.outcome_end_date,
            false
        ) as is_churned,
        observations.observed_date,
        observations.outcome_start_date,
        observations.outcome_end_date
    from observations
    inner join history
        on observations.account_id = history.account_id
        and observations.observed_date = history.score_date
    cross join baseline_weights
    left join cancellations
        on observations.account_id = cancellations.account_id
    -- A day without a score (too little data) predicts nothing; it is left out and counted nowhere.
    where history.health_score is not null
)

select * from final
