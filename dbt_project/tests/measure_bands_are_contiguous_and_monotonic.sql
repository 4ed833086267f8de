-- Guards the band normalisation: each banded measure's ranges run from open to open without gap or overlap, and points never rise as the value gets worse.
{{ config(meta={'dagster': {'ref': {'name': 'measure_bands'}}}) }}

with ordered as (
    select
        bands.measure,
        measures.direction,
        bands.lower_bound,
        bands.upper_bound,
        bands.points,
        lag(bands.upper_bound) over (partition by bands.measure order by bands.lower_bound nulls first) as previous_upper,
        lag(bands.points) over (partition by bands.measure order by bands.lower_bound nulls first) as previous_points,
        row_number() over (partition by bands.measure order by bands.lower_bound nulls first) as position_from_bottom,
        row_number() over (partition by bands.measure order by bands.lower_bound desc nulls last) as position_from_top
    from {{ ref('measure_bands') }} as bands
    inner join {{ ref('measures') }} as measures
        on bands.measure = measures.measure
),

described as (
    -- How each range reads in the sentences below: "measure tickets_per_seat's range 0.15 to 0.3".
    select
        *,
        'seeds/measure_bands.csv: measure ' || measure || ', range from lower_bound ' || {{ value_text('lower_bound') }}
            || ' to upper_bound ' || {{ value_text('upper_bound') }} as range_text
    from ordered
),

validation_errors as (
    select measure, range_text || ': the lowest range must be open below (empty lower_bound)' as problem
    from described where position_from_bottom = 1 and lower_bound is not null
    union all
    select measure, range_text || ': the highest range must be open above (empty upper_bound)'
    from described where position_from_top = 1 and upper_bound is not null
    union all
    select measure, range_text || ': the range below ends at ' || {{ value_text('previous_upper') }} || ' (a gap or an overlap)'
    from described where position_from_bottom > 1 and (previous_upper is null or lower_bound <> previous_upper)
    union all
    select measure, range_text || ': empty or inverted (upper_bound must be above lower_bound)'
    from described where lower_bound is not null and upper_bound is not null and upper_bound <= lower_bound
    union all
    select
        measure,
        range_text || ': ' || {{ value_text('points') }} || ' points against ' || {{ value_text('previous_points') }}
            || ' for the range below, but the measure is ' || direction || ' (points must not rise as the value gets worse)'
    from described
    where position_from_bottom > 1
      and ((direction = 'higher_is_better' and points < previous_points)
        or (direction = 'lower_is_better' and points > previous_points))
    union all
    select
        banded_measures.measure,
        'seeds/measure_bands.csv: measure ' || banded_measures.measure
            || ' is normalised by bands (seeds/measures.csv) but has no bands'
    from {{ ref('measures') }} as banded_measures
    left join {{ ref('measure_bands') }} as bands
        on banded_measures.measure = bands.measure
    where banded_measures.normalisation = 'bands'
      and bands.measure is null
)

select * from validation_errors
