-- Every measure of every account-day turned into 0-100 points by the normalisation its seed row names:
--   linear      ramp from floor_value (0 points) to target_value (100 points), clamped at both ends
--   bands       the points of the band in seeds/measure_bands.csv the value falls into
--   percentile  the value's rank among the segment's values in the frozen reference period
-- plus the measure's weight in the account's scorecard. A measure without a value gets no points.
with measure_values as (
    select * from {{ ref('int_account_measures_unioned') }} where is_history_day
),

measures as (
    select * from {{ ref('measures') }}
),

weights as (
    select * from {{ ref('scorecard_measure_weights') }}
),

banded as (
    select
        measure_values.account_id,
        measure_values.score_date,
        measure_values.measure,
        max(bands.points) as band_points
    from measure_values
    inner join {{ ref('measure_bands') }} as bands
        on measure_values.measure = bands.measure
        and (bands.lower_bound is null or measure_values.measure_value >= bands.lower_bound)
        and (bands.upper_bound is null or measure_values.measure_value < bands.upper_bound)
    group by measure_values.account_id, measure_values.score_date, measure_values.measure
),

ranked as (
    select
        measure_values.account_id,
        measure_values.score_date,
        measure_values.measure,
        coalesce(max(case when reference.cut_value <= measure_values.measure_value then reference.percentile end), 0)
            as percentile_at_or_below,
        100 - coalesce(
            min(case when reference.cut_value >= measure_values.measure_value then reference.percentile end), 100
        ) as percentile_above
    from measure_values
    inner join {{ ref('int_measure_reference_percentiles') }} as reference
        on measure_values.segment = reference.segment
        and measure_values.measure = reference.measure
    group by measure_values.account_id, measure_values.score_date, measure_values.measure
),

normalised as (
    select
        measure_values.account_id,
        measure_values.score_date,
        measure_values.scorecard,
        measures.component,
        measure_values.measure,
        measures.normalisation,
        measures.unit,
        measures.window_days,
        measures.driver_template,
        measure_values.measure_value,
        weights.weight as measure_weight,
        case
            when measure_values.measure_value is null then null
            when measures.normalisation = 'linear'
                then case
                    when (measure_values.measure_value - measures.floor_value)
                        / nullif(measures.target_value - measures.floor_value, 0) <= 0 then 0.0
                    when (measure_values.measure_value - measures.floor_value)
                        / nullif(measures.target_value - measures.floor_value, 0) >= 1 then 100.0
                    else 100.0 * (measure_values.measure_value - measures.floor_value)
                        / nullif(measures.target_value - measures.floor_value, 0)
                end
            when measures.normalisation = 'bands' then banded.band_points
            when measures.normalisation = 'percentile' and measures.direction = 'higher_is_better'
                then ranked.percentile_at_or_below
            when measures.normalisation = 'percentile' then ranked.percentile_above
        end as raw_points
    from measure_values
    inner join measures
        on measure_values.measure = measures.measure
    inner join weights
        on measure_values.scorecard = weights.scorecard
        and measure_values.measure = weights.measure
    left join banded
        on measure_values.account_id = banded.account_id
        and measure_values.score_date = banded.score_date
        and measure_values.measure = banded.measure
    left join ranked
        on measure_values.account_id = ranked.account_id
        and measure_values.score_date = ranked.score_date
        and measure_values.measure = ranked.measure
),

scored as (
    select
        account_id,
        scorecard,
        component,
        measure,
        normalisation,
        unit,
        driver_template,
        window_days,
        measure_value,
        measure_weight,
        {{ score_value('raw_points') }} as measure_points,
        raw_points is not null as has_data,
        score_date
    from normalised
)

select * from scored
