-- The accounts the score missed: they cancelled although they were green on every scored day from
-- `false_negative_from_days` to `false_negative_to_days` before the cancellation. For the scorecard owners:
-- the components on the last of those days show what the score saw, the last score before the
-- cancellation whether it caught up, and the churn reason what it should have seen.
with history as (
    select * from {{ ref('account_health_history') }}
),

cancellations as (
    select account_id, churned_date, churn_reason
    from {{ ref('int_account_cancellations_dated') }}
),

audit_window as (
    select
        cancellations.*,
        cast({{ dbt.dateadd('day', '(-1 * ' ~ seed_setting('backtest_settings', 'false_negative_from_days', 'integer') ~ ')', 'cancellations.churned_date') }} as date)
            as window_start_date,
        cast({{ dbt.dateadd('day', '(-1 * ' ~ seed_setting('backtest_settings', 'false_negative_to_days', 'integer') ~ ')', 'cancellations.churned_date') }} as date)
            as window_end_date
    from cancellations
),

window_days as (
    select
        audit_window.account_id,
        count(*) as scored_days,
        sum(case when history.health_band = 'green' then 1 else 0 end) as green_days,
        max(history.score_date) as last_window_day
    from audit_window
    inner join history
        on audit_window.account_id = history.account_id
        and history.score_date between audit_window.window_start_date and audit_window.window_end_date
    group by audit_window.account_id
),

last_scores as (
    select account_id, health_score, health_band
    from (
        select
            account_id,
            health_score,
            health_band,
            row_number() over (partition by account_id order by score_date desc) as recency
        from history
    ) as ranked
    where recency = 1
),

final as (
    select
        audit_window.account_id,
        audit_window.churned_date,
        audit_window.churn_reason,
        history.segment,
        history.scorecard,
        history.config_version,
        window_days.scored_days as green_window_days,
        history.score_date as green_on_date,
        history.health_score as green_health_score,
        history.usage_score,
        history.support_score,
        history.payment_score,
        history.feedback_score,
        history.milestones_score,
        history.weakest_component,
        last_scores.health_score as last_health_score,
        last_scores.health_band as last_health_band
    from audit_window
    inner join window_days
        on audit_window.account_id = window_days.account_id
    inner join history
        on window_days.account_id = history.account_id
        and window_days.last_window_day = history.score_date
    left join last_scores
        on audit_window.account_id = last_scores.account_id
    where window_days.green_days = window_days.scored_days
)

select * from final
