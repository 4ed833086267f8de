-- What the CRM shows of each account's health: one row per account in its current state, with the churn
-- probability of its latest scored day (for a churned account its last day, like its score) and its primary
-- next action. The CRM export asset (orchestration/defs/exports/) renames the columns to HubSpot and Salesforce
-- fields (seeds/crm_property_mapping.csv) and writes only the accounts whose values changed.
-- Tag churn_risk: it reads account_churn_risk, built in the second dbt step after the backtest.
{{ config(tags=['churn_risk']) }}

with scores as (
    select * from {{ ref('account_health_scores') }}
),

churn_risk as (
    select
        account_id,
        score_date,
        churn_probability_horizon
    from {{ ref('account_churn_risk') }}
),

primary_actions as (
    select
        account_id,
        action,
        due_date
    from {{ ref('account_actions') }}
    where is_primary
),

final as (
    select
        scores.account_id,
        scores.health_band,
        scores.trend,
        scores.top_driver,
        scores.top_driver_reason,
        primary_actions.action as next_action,
        {{ cut_score('scores.health_score') }} as health_score,
        scores.change_30d,
        churn_risk.churn_probability_horizon as churn_probability,
        primary_actions.due_date as next_action_due_date,
        scores.score_date
    from scores
    left join churn_risk
        on scores.account_id = churn_risk.account_id
        and scores.score_date = churn_risk.score_date
    left join primary_actions
        on scores.account_id = primary_actions.account_id
)

select * from final
