-- Guards the scorecard configuration: component weights, and measure weights within each component, sum to 1.
{{ config(meta={'dagster': {'ref': {'name': 'scorecard_components'}}}) }}

with component_level as (
    select
        'components' as level,
        'all' as scope,
        sum(weight) as total_weight
    from {{ ref('scorecard_components') }}
),

measure_level as (
    select
        'measures' as level,
        component as scope,
        sum(weight) as total_weight
    from {{ ref('scorecard_measures') }}
    group by component
),

validation_errors as (
    select * from component_level where abs(total_weight - 1) > 0.000001
    union all
    select * from measure_level where abs(total_weight - 1) > 0.000001
)

select * from validation_errors
