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

banded_measures as (
    select measure from {{ ref('measures') }} where normalisation = 'bands'
),

validation_errors as (
    select measure, 'lowest range must be open below' as problem
    from ordered where position_from_bottom = 1 and lower_bound is not null
    union all
    select measure, 'highest range must be open above'
    from ordered where position_from_top = 1 and upper_bound is not null
    union all
    select measure, 'gap or overlap between ranges'
    from ordered where position_from_bottom > 1 and (previous_upper is null or lower_bound <> previous_upper)
    union all
    select measure, 'empty or inverted range'
    from ordered where lower_bound is not null and upper_bound is not null and upper_bound <= lower_bound
    union all
    select measure, 'points rise as the value gets worse'
    from ordered
    where position_from_bottom > 1
      and ((direction = 'higher_is_better' and points < previous_points)
        or (direction = 'lower_is_better' and points > previous_points))
    union all
    select banded_measures.measure, 'normalised by bands but has no bands'
    from banded_measures
    left join {{ ref('measure_bands') }} as bands
        on banded_measures.measure = bands.measure
    where bands.measure is null
)

select * from validation_errors
