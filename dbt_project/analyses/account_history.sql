-- One account's score history, day by day: score, band, component scores, the top driver and why the score moved
-- against the week before. Pick the account with --var account_id=ACC-00042; without it, the current customer
-- with the lowest score.
{%- set account_id = var('account_id', none) %}
with chosen_account as (
    {%- if account_id %}
    select '{{ account_id | replace("'", "''") }}' as account_id
    {%- else %}
    select min(account_id) as account_id
    from {{ ref('account_health_scores') }}
    where not is_churned
      and health_score = (
          select min(health_score) from {{ ref('account_health_scores') }} where not is_churned
      )
    {%- endif %}
),

weekly_changes as (
    select account_id, score_date, explanation
    from {{ ref('account_score_changes') }}
    where window_days = 7
      and account_id in (select account_id from chosen_account)
)

select
    history.account_id,
    history.account_name,
    history.score_date,
    history.health_score,
    history.health_band,
    history.trend,
    history.change_7d,
    weekly_changes.explanation as change_explanation_7d,
    history.top_driver_reason,
    history.usage_score,
    history.support_score,
    history.payment_score,
    history.feedback_score,
    history.milestones_score,
    history.coverage,
    history.capped_by,
    history.scorecard,
    history.csm_owner,
    history.arr_reporting_amount,
    history.reporting_currency_code
from {{ ref('account_health_history') }} as history
left join weekly_changes
    on history.account_id = weekly_changes.account_id
    and history.score_date = weekly_changes.score_date
where history.account_id in (select account_id from chosen_account)
order by history.score_date
