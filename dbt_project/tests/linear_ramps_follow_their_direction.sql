-- Guards the linear normalisation: a ramp has a floor and a target, and runs upward for higher-is-better measures and downward for lower-is-better ones.
{{ config(meta={'dagster': {'ref': {'name': 'measures'}}}) }}

select measure, direction, floor_value, target_value
from {{ ref('measures') }}
where normalisation = 'linear'
  and (
    floor_value is null
    or target_value is null
    or (direction = 'higher_is_better' and target_value <= floor_value)
    or (direction = 'lower_is_better' and target_value >= floor_value)
  )
