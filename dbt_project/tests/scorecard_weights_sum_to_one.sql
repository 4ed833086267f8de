-- Guards the scorecard configuration: per scorecard (one without any weight included), component weights sum to 1, and measure weights sum to 1 within each component.
{{ config(meta={'dagster': {'ref': {'name': 'scorecard_components'}}}) }}

with component_level as (
    -- From the scorecards, so that a scorecard without any component weight sums to 0 instead of passing.
    select
        scorecards.scorecard,
        'components' as level,
        coalesce(sum(components.weight), 0) as total_weight
    from {{ ref('scorecards') }} as scorecards
    left join {{ ref('scorecard_components') }} as components
        on scorecards.scorecard = components.scorecard
    group by scorecards.scorecard
),

measure_level as (
    select
        weights.scorecard,
        'measures of ' || measures.component as level,
        sum(weights.weight) as total_weight
    from {{ ref('scorecard_measure_weights') }} as weights
    inner join {{ ref('measures') }} as measures
        on weights.measure = measures.measure
    group by weights.scorecard, measures.component
),

validation_errors as (
    select
        *,
        'seeds/scorecard_components.csv: the component weights of scorecard ' || scorecard || ' sum to '
            || {{ value_text('total_weight') }} || ', not 1' as problem
    from component_level
    where total_weight <> 1
    union all
    select
        *,
        'seeds/scorecard_measure_weights.csv: the weights of scorecard ' || scorecard || ' for the ' || level
            || ' sum to ' || {{ value_text('total_weight') }} || ', not 1' as problem
    from measure_level
    where total_weight <> 1
)

select * from validation_errors
