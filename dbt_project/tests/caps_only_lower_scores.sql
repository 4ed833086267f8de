-- Guards the caps: a cap never raises a score, and a capped score never exceeds the cap's maximum.
{{ config(meta={'dagster': {'ref': {'name': 'account_health_history'}}}) }}

select history.account_id, history.score_date, history.health_score, history.uncapped_score, history.capped_by
from {{ ref('account_health_history') }} as history
left join {{ ref('score_caps') }} as caps
    on history.capped_by = caps.cap
where history.health_score > history.uncapped_score
   or history.cap_adjustment > 0
   or (history.capped_by is not null and history.health_score > caps.max_score)
