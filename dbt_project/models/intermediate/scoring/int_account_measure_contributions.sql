-- Each measure's share of an account-day's health score. A measure's scorecard weight is its component's
-- weight times its weight inside the component. Measures without data drop out and their weight is
-- spread over all measures with data, in proportion to their weights; `effective_weight` is the weight
-- that remains, and `contribution` = points x effective weight. Contributions are fixed-point and add up
-- exactly to the health score.
with scored as (
    select * from {{ ref('int_account_measures_scored') }}
),

weighted as (
    select
        scored.*,
        components.weight as component_weight,
        components.weight * scored.measure_weight as scorecard_weight
    from scored
    inner join {{ ref('scorecard_components') }} as components
        on scored.scorecard = components.scorecard
        and scored.component = components.component
),

coverage_and_total as (
    select
        account_id,
        score_date,
        sum(case when has_data then scorecard_weight else 0 end) as weight_with_data,
        -- Exact decimal sums, divided once: the same total on every engine and every run.
        sum(case when has_data then scorecard_weight * measure_points else 0 end) as weighted_points
    from weighted
    group by account_id, score_date
),

rounded as (
    select
        weighted.*,
        coverage_and_total.weight_with_data,
        {{ score_value(
            'case when coverage_and_total.weight_with_data > 0'
            ~ ' then cast(coverage_and_total.weighted_points as double) / coverage_and_total.weight_with_data end'
        ) }} as account_day_total,
        {{ score_value(
            'case when weighted.has_data and coverage_and_total.weight_with_data > 0'
            ~ ' then cast(weighted.scorecard_weight as double) / coverage_and_total.weight_with_data else 0 end'
        ) }} as effective_weight,
        {{ score_value(
            'case when weighted.has_data and coverage_and_total.weight_with_data > 0'
            ~ ' then cast(weighted.measure_points * weighted.scorecard_weight as double) / coverage_and_total.weight_with_data'
            ~ ' else 0 end'
        ) }} as rounded_contribution
    from weighted
    inner join coverage_and_total
        on weighted.account_id = coverage_and_total.account_id
        and weighted.score_date = coverage_and_total.score_date
),

-- Rounding each contribution can leave their sum a millionth off the rounded total (even above 100);
-- the largest contribution absorbs that remainder, so the parts add up exactly to the whole.
balanced as (
    select
        *,
        account_day_total - sum(rounded_contribution) over (partition by account_id, score_date) as remainder,
        row_number() over (
            partition by account_id, score_date order by rounded_contribution desc, measure
        ) as contribution_rank
    from rounded
),

contributions as (
    select
        account_id || '|' || cast(score_date as {{ dbt.type_string() }}) || '|' || measure as account_day_measure_id,
        account_id,
        scorecard,
        component,
        measure,
        normalisation,
        unit,
        driver_template,
        window_days,
        measure_value,
        measure_points,
        measure_weight,
        component_weight,
        scorecard_weight,
        weight_with_data,
        effective_weight,
        cast(case
            when contribution_rank = 1 and account_day_total is not null then rounded_contribution + remainder
            else rounded_contribution
        end as decimal(10, 6)) as contribution,
        has_data,
        score_date
    from balanced
)

select * from contributions
