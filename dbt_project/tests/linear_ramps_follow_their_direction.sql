-- Guards the linear normalisation: a ramp has a floor and a target, and runs upward for higher-is-better measures and downward for lower-is-better ones.
{{ config(meta={'dagster': {'ref': {'name': 'measures'}}}) }}

select
    measure,
    direction,
    floor_value,
    target_value,
    'seeds/measures.csv: measure ' || measure || ' is ' || direction || ' with a linear ramp from floor_value '
        || {{ value_text('floor_value') }} || ' to target_value ' || {{ value_text('target_value') }} || ': '
        || case
            when floor_value is null or target_value is null then 'a linear ramp needs both'
            when direction = 'higher_is_better' then 'the target must be above the floor'
            else 'the target must be below the floor'
        end as problem
from {{ ref('measures') }}
where normalisation = 'linear'
  and (
    floor_value is null
    or target_value is null
    or (direction = 'higher_is_better' and target_value <= floor_value)
    or (direction = 'lower_is_better' and target_value >= floor_value)
  )
