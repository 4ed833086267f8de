-- Component scores per account: the weighted mean of the points of the measures that have data. A
-- measure without data drops out and its weight is spread over the others; `measure_coverage` is the
-- share of the component's measure weight backed by data. No measure with data: no component score.
with measure_points as (
    select * from {{ ref('int_account_measures_scored') }}
),

components as (
    select
        account_id,
        component,
        sum(case when has_data then measure_weight * measure_points else 0 end) as weighted_points,
        sum(case when has_data then measure_weight else 0 end) as weight_with_data,
        sum(measure_weight) as weight_configured
    from measure_points
    group by account_id, component
),

scored as (
    select
        account_id,
        component,
        {{ score_value('case when weight_with_data > 0 then weighted_points / weight_with_data end') }}
            as component_score,
        {{ score_value('case when weight_configured > 0 then weight_with_data / weight_configured else 0 end') }}
            as measure_coverage
    from components
)

select * from scored
