-- Churn rate per health band, the first thing a scorecard owner asks of a backtest: do red accounts churn
-- more than yellow, and yellow more than green? Per outcome and configuration version, for the whole
-- portfolio (`segment` = 'all') and per segment.
with observations as (
    select * from {{ ref('int_backtest_observations_labelled') }}
),

by_segment as (
    select outcome, config_version, segment, health_band, is_churned from observations
    union all
    select outcome, config_version, 'all' as segment, health_band, is_churned from observations
),

final as (
    select
        outcome || '|' || config_version || '|' || segment || '|' || health_band as backtest_band_id,
        outcome,
        config_version,
        segment,
        health_band,
        count(*) as observations,
        cast(sum(case when is_churned then 1 else 0 end) as {{ dbt.type_bigint() }}) as churned_observations,
        cast(avg(case when is_churned then 1.0 else 0.0 end) as double) as churn_rate
    from by_segment
    group by outcome, config_version, segment, health_band
)

select * from final
