-- Guards the score arithmetic: each health score is the weighted mean of its component scores with data
{{ config(meta={'dagster': {'ref': {'name': 'account_health_scores'}}}) }}

-- (weights from the seed, to rounding at the sixth decimal), and its published contributions add up to it exactly.
with components as (
    select
        scores.account_id,
        sum(scores.component_score * weights.weight) as weighted_sum,
        sum(case when scores.component_score is not null then weights.weight else 0 end) as weight_with_data,
        sum(scores.contribution) as contribution_sum
    from {{ ref('fct_account_component_scores') }} as scores
    inner join {{ ref('scorecard_components') }} as weights
        on scores.component = weights.component
    group by scores.account_id
),

validation_errors as (
    select
        marts.account_id,
        marts.health_score,
        components.weighted_sum / components.weight_with_data as expected_score,
        components.contribution_sum
    from {{ ref('account_health_scores') }} as marts
    inner join components
        on marts.account_id = components.account_id
    where marts.health_score is not null
      and (
        abs(marts.health_score - components.weighted_sum / components.weight_with_data) > 0.00001
        or marts.health_score <> components.contribution_sum
      )
)

select * from validation_errors
