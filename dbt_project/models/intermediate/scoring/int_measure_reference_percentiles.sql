-- The frozen yardstick of percentile measures: for each segment and measure, the values at the 0th to
-- 100th percentile of all account-days in the reference period (seeds/scoring_settings.csv). Ranking
-- against a fixed period, not against whoever is scored today, keeps a score meaning the same next month.
with reference_values as (
    select
        values_.segment,
        values_.measure,
        values_.measure_value,
        row_number() over (
            partition by values_.segment, values_.measure order by values_.measure_value
        ) as value_position,
        count(*) over (partition by values_.segment, values_.measure) as reference_size
    from {{ ref('int_account_measures_unioned') }} as values_
    inner join {{ ref('measures') }} as measures
        on values_.measure = measures.measure
    where values_.is_reference_day
      and measures.normalisation = 'percentile'
      and values_.measure_value is not null
),

percentiles as (
    select n as percentile from ({{ integers() }}) as integers where n <= 100
),

cut_points as (
    select
        reference_values.segment,
        reference_values.measure,
        percentiles.percentile,
        reference_values.measure_value as cut_value,
        reference_values.reference_size
    from reference_values
    inner join percentiles
        on reference_values.value_position
            = cast(floor(percentiles.percentile * (reference_values.reference_size - 1) / 100.0) as integer) + 1
)

select * from cut_points
