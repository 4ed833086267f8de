-- The published score mart: one row per account with its health score (0-100), band, component scores
-- and the account attributes customer-success teams filter on.
with accounts as (
    select * from {{ ref('int_accounts_enriched') }}
),

components as (
    select * from {{ ref('fct_account_component_scores') }}
),

bands as (
    select * from {{ ref('health_bands') }}
),

totals as (
    select
        account_id,
        sum(contribution) as weighted_score,
        sum(case when component_score is not null then configured_weight else 0 end) as weight_with_data,
        sum(configured_weight) as weight_configured,
        max(case when component = 'usage' then component_score end) as usage_score,
        max(case when component = 'support' then component_score end) as support_score,
        max(case when component = 'payment' then component_score end) as payment_score,
        max(case when component = 'feedback' then component_score end) as feedback_score,
        max(case when component = 'milestones' then component_score end) as milestones_score
    from components
    group by account_id
),

weakest as (
    select account_id, component as weakest_component, component_score as weakest_component_score
    from (
        select
            account_id,
            component,
            component_score,
            row_number() over (partition by account_id order by component_score, component) as weakness_rank
        from components
        where component_score is not null and configured_weight > 0
    ) as ranked
    where weakness_rank = 1
),

scored as (
    select
        accounts.account_id,
        case when totals.weight_with_data > 0 then cast(totals.weighted_score as decimal(10, 6)) end as health_score,
        {{ score_value('case when totals.weight_configured > 0 then totals.weight_with_data / totals.weight_configured end') }}
            as coverage,
        totals.usage_score,
        totals.support_score,
        totals.payment_score,
        totals.feedback_score,
        totals.milestones_score
    from accounts
    left join totals
        on accounts.account_id = totals.account_id
),

final as (
    select
        accounts.account_id,
        accounts.account_name,
        accounts.segment,
        accounts.plan_name,
        accounts.country_code,
        accounts.currency_code,
        accounts.csm_owner,
        accounts.lifecycle_stage,
        bands.band as health_band,
        case when scored.health_score is null then 'insufficient_data' else 'scored' end as score_status,
        weakest.weakest_component,
        scored.health_score,
        scored.coverage,
        scored.usage_score,
        scored.support_score,
        scored.payment_score,
        scored.feedback_score,
        scored.milestones_score,
        weakest.weakest_component_score,
        accounts.arr_amount,
        accounts.licensed_seats,
        accounts.is_churned,
        accounts.contract_start_date,
        accounts.renewal_date,
        accounts.churned_date,
        accounts.scored_date,
        accounts.as_of_date
    from accounts
    inner join scored
        on accounts.account_id = scored.account_id
    left join weakest
        on accounts.account_id = weakest.account_id
    left join bands
        on scored.health_score >= bands.min_score
        and (scored.health_score < bands.max_score or (bands.max_score = 100 and scored.health_score = 100))
)

select * from final
