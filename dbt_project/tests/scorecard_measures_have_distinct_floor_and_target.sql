-- Guards the normalisation: a ramp whose floor equals its target cannot turn values into points.
select measure, floor_value, target_value
from {{ ref('scorecard_measures') }}
where floor_value = target_value
