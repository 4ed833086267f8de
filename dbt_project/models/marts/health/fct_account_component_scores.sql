-- One row per account and component: its score, configured weight, the weight it carries once
-- components without data are left out, and its contribution to the health score. Contributions of an
-- account add up exactly to its health score (fixed-point, six decimals).
with components as (
    select * from {{ ref('int_account_components_scored') }}
),

weights as (
    select component, weight from {{ ref('scorecard_components') }}
),

weighted as (
    select
        components.account_id,
        components.component,
        components.component_score,
        components.measure_coverage,
        weights.weight as configured_weight,
        sum(case when components.component_score is not null then weights.weight else 0 end)
            over (partition by components.account_id) as weight_with_data
    from components
    inner join weights
        on components.component = weights.component
),

contributions as (
    select
        account_id || '|' || component as account_component_id,
        account_id,
        component,
        component_score,
        measure_coverage,
        configured_weight,
        {{ score_value('''case
            when component_score is not null and weight_with_data > 0 then configured_weight / weight_with_data
            else 0
        end''') }} as effective_weight,
        {{ score_value('''case
            when component_score is not null and weight_with_data > 0
                then component_score * configured_weight / weight_with_data
            else 0
        end''') }} as contribution
    from weighted
)

select * from contributions
