-- The churn probability behind each score: per account and day, the probability of cancelling within the
-- backtest horizon and at the next renewal, from the score and its component scores through the logistic
-- coefficients the backtest fitted on the history's real churn (source backtest.churn_model_coefficients),
-- and the ARR at risk (probability x ARR in the account's currency, and in the reporting currency at the
-- day's rate). A component without data stands at
-- the score, as in the fit. The 0-100 score stays the explainable headline; this translates it into odds.
-- Built after the backtest asset (tag churn_risk, a second dbt step), so the coefficients are this refresh's.
-- Like the history it extends, it is point in time and incremental: a build computes the days the history
-- (re)scored in it, with the model of the day (`churn_model_version`), and keeps older days as they were.
-- depends_on: {{ ref('int_account_health_scored') }}
{{ config(
    materialized='incremental',
    full_refresh=var('rebuild_history', false),
    on_schema_change='append_new_columns',
    tags=['churn_risk'],
    **incremental_replacement('score_date', unique_key=['account_id', 'score_date']),
) }}

with history as (
    select * from {{ ref('account_health_history') }}
    {%- if is_incremental() %}
    where score_date >= (select min(score_date) from {{ ref('int_account_health_scored') }})
    {%- endif %}
),

coefficients as (
    select
        outcome,
        max(case when feature = 'intercept' then coefficient end) as intercept,
        max(case when feature = 'health_score' then coefficient end) as health_weight,
        max(case when feature = 'usage_score' then coefficient end) as usage_weight,
        max(case when feature = 'support_score' then coefficient end) as support_weight,
        max(case when feature = 'payment_score' then coefficient end) as payment_weight,
        max(case when feature = 'feedback_score' then coefficient end) as feedback_weight,
        max(case when feature = 'milestones_score' then coefficient end) as milestones_weight,
        max(model_version) as model_version
    from {{ source('backtest', 'churn_model_coefficients') }}
    group by outcome
),

log_odds as (
    select
        history.account_id,
        history.score_date,
        coefficients.outcome,
        coefficients.model_version,
        coefficients.intercept
            + (
                coefficients.health_weight * cast(history.health_score as double)
                + coefficients.usage_weight * cast(coalesce(history.usage_score, history.health_score) as double)
                + coefficients.support_weight * cast(coalesce(history.support_score, history.health_score) as double)
                + coefficients.payment_weight * cast(coalesce(history.payment_score, history.health_score) as double)
                + coefficients.feedback_weight * cast(coalesce(history.feedback_score, history.health_score) as double)
                + coefficients.milestones_weight
                    * cast(coalesce(history.milestones_score, history.health_score) as double)
            ) / 100.0 as log_odds
    from history
    cross join coefficients
    where history.health_score is not null
),

probabilities as (
    select
        account_id,
        score_date,
        max(case when outcome = 'churn_within_horizon' then 1.0 / (1.0 + exp(-1.0 * log_odds)) end)
            as churn_probability_horizon,
        max(case when outcome = 'churn_at_renewal' then 1.0 / (1.0 + exp(-1.0 * log_odds)) end)
            as churn_probability_renewal,
        max(model_version) as churn_model_version
    from log_odds
    group by account_id, score_date
),

final as (
    select
        history.account_day_id,
        history.account_id,
        history.segment,
        history.scorecard,
        history.health_band,
        history.health_score,
        cast(probabilities.churn_probability_horizon as double) as churn_probability_horizon,
        cast(probabilities.churn_probability_renewal as double) as churn_probability_renewal,
        versions.currency_code,
        {{ reporting_currency_code() }} as reporting_currency_code,
        versions.arr_amount,
        cast(probabilities.churn_probability_horizon * cast(versions.arr_amount as double) as decimal(18, 2))
            as arr_at_risk_horizon,
        cast(probabilities.churn_probability_renewal * cast(versions.arr_amount as double) as decimal(18, 2))
            as arr_at_risk_renewal,
        {{ to_reporting_currency('versions.arr_amount', 'exchange_rates') }} as arr_reporting_amount,
        {{ to_reporting_currency('probabilities.churn_probability_horizon * cast(versions.arr_amount as double)', 'exchange_rates') }}
            as arr_at_risk_horizon_reporting_amount,
        {{ to_reporting_currency('probabilities.churn_probability_renewal * cast(versions.arr_amount as double)', 'exchange_rates') }}
            as arr_at_risk_renewal_reporting_amount,
        versions.csm_owner,
        probabilities.churn_model_version,
        history.score_date,
        cast({{ dbt.current_timestamp() }} as timestamp) as scored_at
    from history
    -- Until the backtest could fit a model (no churn yet), the probabilities stay empty; the rows are there.
    left join probabilities
        on history.account_id = probabilities.account_id
        and history.score_date = probabilities.score_date
    inner join {{ ref('dim_account_versions') }} as versions
        on history.account_id = versions.account_id
        and {{ version_valid_on('versions', 'history.score_date') }}
    left join {{ ref('int_exchange_rates_dated') }} as exchange_rates
        on versions.currency_code = exchange_rates.currency_code
        and {{ exchange_rate_valid_on('exchange_rates', 'history.score_date') }}
    where history.health_score is not null
)

select * from final
