-- Guards the scorecard configuration: every scorecard gives every measure a weight (0 is allowed) and every component a weight.
{{ config(meta={'dagster': {'ref': {'name': 'scorecard_measure_weights'}}}) }}

with expected_measures as (
    select scorecards.scorecard, measures.measure as item
    from {{ ref('scorecards') }} as scorecards
    cross join {{ ref('measures') }} as measures
),

expected_components as (
    select distinct scorecards.scorecard, measures.component as item
    from {{ ref('scorecards') }} as scorecards
    cross join {{ ref('measures') }} as measures
),

validation_errors as (
    select
        expected_measures.*,
        'seeds/scorecard_measure_weights.csv: scorecard ' || expected_measures.scorecard || ' has no row for measure '
            || expected_measures.item || ' (a weight of 0 leaves it out)' as problem
    from expected_measures
    left join {{ ref('scorecard_measure_weights') }} as weights
        on expected_measures.scorecard = weights.scorecard
        and expected_measures.item = weights.measure
    where weights.measure is null

    union all

    select
        expected_components.*,
        'seeds/scorecard_components.csv: scorecard ' || expected_components.scorecard || ' has no row for component '
            || expected_components.item as problem
    from expected_components
    left join {{ ref('scorecard_components') }} as components
        on expected_components.scorecard = components.scorecard
        and expected_components.item = components.component
    where components.component is null
)

select * from validation_errors
