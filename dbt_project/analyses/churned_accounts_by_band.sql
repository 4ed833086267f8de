-- How well does the score separate accounts that left from those that stayed? Churned accounts are
-- scored on their last day as customers, so their band is what a CSM saw just before the cancellation.
-- Run it with `make analysis NAME=churned_accounts_by_band` (orchestration/analyses.py).
select
    health_band,
    count(*) as accounts,
    sum(case when is_churned then 1 else 0 end) as churned_accounts,
    round(100.0 * sum(case when is_churned then 1 else 0 end) / count(*), 1) as churned_percent,
    round(avg(health_score), 1) as average_health_score
from {{ ref('account_health_scores') }}
group by health_band
order by min(health_score)
