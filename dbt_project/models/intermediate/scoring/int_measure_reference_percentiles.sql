-- The frozen yardstick of percentile measures: for each segment and measure, the values at the 0th to
-- 100th percentile of all account-days in the reference period (seeds/scoring_settings.csv). Ranking
-- against a fixed period, not against whoever is scored today, keeps a score meaning the same next month.
-- Once computed it is kept, with the configuration version and period it belongs to, so that a daily
-- build does not measure the reference days again; a configuration change, another period, a build
-- reaching back into the period or a rebuild of the history computes it anew.
-- depends_on: {{ ref('int_scorecard_config_rows') }}, {{ ref('stg_product__usage_events') }}, {{ ref('scoring_settings') }}
{%- set stored = stored_reference_yardstick() %}

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
        reference_values.reference_size,
        (select max(config_version) from {{ ref('int_scorecard_config_rows') }}) as config_version,
        {{ setting('reference_start_date', 'date') }} as reference_start_date,
        {{ setting('reference_end_date', 'date') }} as reference_end_date
    from reference_values
    inner join percentiles
        on reference_values.value_position
            = cast(floor(percentiles.percentile * (reference_values.reference_size - 1) / 100.0) as integer) + 1
)

{%- if stored is none %}

select * from cut_points

{%- else %}

select * from cut_points where not {{ stored_reference_is_current() }}
union all
select segment, measure, percentile, cut_value, reference_size, config_version, reference_start_date,
    reference_end_date
from {{ this }}
where {{ stored_reference_is_current() }}

{%- endif %}
