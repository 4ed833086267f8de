-- Which accounts' scores fell most, and why: the largest drops over `window_days` (7 or 30, default 30) up to the
-- latest scored day, with the explanation from account_score_changes (drivers by component, each measure's value
-- then and now) and today's top driver. Run with --var window_days=7 for the last week; --var limit=50 for more.
with latest_changes as (
    select *
    from {{ ref('account_score_changes') }}
    where window_days = {{ var('window_days', 30) }}
      and score_change < 0
      and score_date = (select max(score_date) from {{ ref('account_score_changes') }})
)

select
    changes.account_id,
    scores.account_name,
    scores.csm_owner,
    scores.segment,
    scores.health_band,
    changes.score_before,
    changes.score_after,
    changes.score_change,
    changes.top_driver_group,
    changes.explanation,
    scores.top_driver_reason,
    changes.is_config_changed,
    changes.comparison_date,
    changes.score_date
from latest_changes as changes
inner join {{ ref('account_health_scores') }} as scores
    on changes.account_id = scores.account_id
order by changes.score_change, changes.account_id
limit {{ var('limit', 20) }}
