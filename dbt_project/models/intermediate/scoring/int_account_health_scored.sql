-- One row per account-day: the health score (the weighted points of the measures with data), lowered by
-- the strictest cap that applies, or no score when too little of the scorecard's weight is backed by data;
-- component scores and contributions; the strongest negative driver with a sentence a CSM can act on; and,
-- per measure, its value, points, weights and contribution (int_account_measure_contributions lists them
-- one row per measure).
--
-- A measure's scorecard weight is its component's weight times its weight inside the component. Measures
-- without data drop out and their weight is spread over all measures with data, in proportion to their
-- weights; `effective_weight` is the weight that remains, and contribution = points x effective weight.
-- Scores are fixed-point; rounding each contribution can leave their sum a millionth off the rounded
-- total (even above 100), so the largest contribution absorbs that remainder and the parts add up
-- exactly to the whole.
--
-- The measures are columns here (macros/scored_measures.sql), so all of this is arithmetic within a row.
{%- set measures = scored_measures() %}

with days as (
    select * from {{ ref('int_account_days_assigned') }} where is_history_day
),

-- Each family's measure values as columns, one row per account-day.
{%- for family, family_measures in measure_families().items() %}

{{ family }}_values as (
    select
        account_id,
        score_date
        {%- for m in family_measures %},
        max(case when measure = '{{ m }}' then measure_value end) as {{ m }}__value
        {%- endfor %}
    from {{ ref('int_' ~ family ~ '_measures_computed') }}
    group by account_id, score_date
),
{%- endfor %}

valued as (
    select
        days.account_id,
        days.segment,
        days.score_date
        {%- for family, family_measures in measure_families().items() %}
        {%- for m in family_measures %},
        {{ family }}_values.{{ m }}__value
        {%- endfor %}
        {%- endfor %}
    from days
    {%- for family in measure_families() %}
    left join {{ family }}_values
        on days.account_id = {{ family }}_values.account_id
        and days.score_date = {{ family }}_values.score_date
    {%- endfor %}
),

-- How each measure turns into points (seeds/measures.csv), as columns of a single row.
measure_settings as (
    select
        {%- for m in measures %}
        max(case when measure = '{{ m }}' then normalisation end) as {{ m }}__normalisation,
        max(case when measure = '{{ m }}' then floor_value end) as {{ m }}__floor_value,
        max(case when measure = '{{ m }}' then target_value end) as {{ m }}__target_value,
        max(case when measure = '{{ m }}' then component end) as {{ m }}__component{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('measures') }}
),

-- Percentile points: the highest percentile whose cut value is at or below the value (higher is
-- better), or 100 minus the lowest whose cut value is at or above it (lower is better). The values of
-- percentile measures and the cut points are sorted together per segment and measure, cut points first
-- on ties, and running extremes of the cut points' percentiles read off the answer for every value.
-- The percentile measures (normally a few), then their values: one pass over the account-days, unpivoted by
-- a CASE (a union of one select per measure would repeat the account-days 21 times in Spark's plan).
percentile_measures as (
    select measure
    from {{ ref('measures') }}
    where normalisation = 'percentile'
      and measure in ({% for m in measures %}'{{ m }}'{% if not loop.last %}, {% endif %}{% endfor %})
),

unpivoted_percentile_values as (
    select
        valued.account_id,
        valued.score_date,
        valued.segment,
        percentile_measures.measure,
        case percentile_measures.measure
            {%- for m in measures %}
            when '{{ m }}' then valued.{{ m }}__value
            {%- endfor %}
        end as measure_value
    from valued
    cross join percentile_measures
),

percentile_values as (
    select * from unpivoted_percentile_values where measure_value is not null
),

percentile_timeline as (
    select segment, measure, measure_value as sort_value, 1 as is_value, account_id, score_date,
        cast(null as integer) as percentile
    from percentile_values
    union all
    select segment, measure, cut_value, 0, null, null, percentile
    from {{ ref('int_measure_reference_percentiles') }}
),

running_percentiles as (
    select
        account_id,
        score_date,
        measure,
        is_value,
        max(percentile) over (
            partition by segment, measure order by sort_value, is_value rows between unbounded preceding and current row
        ) as highest_at_or_below,
        min(percentile) over (
            partition by segment, measure order by sort_value desc, is_value rows between unbounded preceding and current row
        ) as lowest_at_or_above,
        -- A segment without reference values cannot rank anything: no points rather than zero.
        sum(1 - is_value) over (partition by segment, measure) as cut_points
    from percentile_timeline
),

percentile_points as (
    select
        running_percentiles.account_id,
        running_percentiles.score_date,
        running_percentiles.measure,
        case
            when measures.direction = 'higher_is_better' then coalesce(running_percentiles.highest_at_or_below, 0)
            else 100 - coalesce(running_percentiles.lowest_at_or_above, 100)
        end as points
    from running_percentiles
    inner join {{ ref('measures') }} as measures
        on running_percentiles.measure = measures.measure
    where running_percentiles.is_value = 1 and running_percentiles.cut_points > 0
),

-- The percentile points of an account-day as columns, joined once (not once per measure).
percentile_ranks as (
    select
        account_id,
        score_date
        {%- for m in measures %},
        max(case when measure = '{{ m }}' then points end) as {{ m }}__rank_points
        {%- endfor %}
    from percentile_points
    group by account_id, score_date
),

-- Every measure's value turned into 0-100 points by the normalisation its seed row names:
--   linear      ramp from floor_value (0 points) to target_value (100 points), clamped at both ends
--   bands       the points of the band in seeds/measure_bands.csv the value falls into
--   percentile  the value's rank among the segment's values in the frozen reference period
-- A measure without a value gets no points.
pointed as (
    select
        valued.account_id,
        valued.score_date
        {%- for m in measures %},
        valued.{{ m }}__value,
        {{ score_value(
            'case'
            ~ ' when valued.' ~ m ~ '__value is null then null'
            ~ ' when measure_settings.' ~ m ~ "__normalisation = 'linear' then case"
            ~ '   when (valued.' ~ m ~ '__value - measure_settings.' ~ m ~ '__floor_value)'
            ~ '     / nullif(measure_settings.' ~ m ~ '__target_value - measure_settings.' ~ m ~ '__floor_value, 0) <= 0 then 0.0'
            ~ '   when (valued.' ~ m ~ '__value - measure_settings.' ~ m ~ '__floor_value)'
            ~ '     / nullif(measure_settings.' ~ m ~ '__target_value - measure_settings.' ~ m ~ '__floor_value, 0) >= 1 then 100.0'
            ~ '   else 100.0 * (valued.' ~ m ~ '__value - measure_settings.' ~ m ~ '__floor_value)'
            ~ '     / nullif(measure_settings.' ~ m ~ '__target_value - measure_settings.' ~ m ~ '__floor_value, 0)'
            ~ '   end'
            ~ ' when measure_settings.' ~ m ~ "__normalisation = 'bands' then " ~ m ~ '__band.points'
            ~ ' when measure_settings.' ~ m ~ "__normalisation = 'percentile' then percentile_ranks." ~ m ~ '__rank_points'
            ~ ' end'
        ) }} as {{ m }}__points
        {%- endfor %}
    from valued
    cross join measure_settings
    {%- for m in measures %}
    -- Bands of a measure do not overlap (tested on the seed), so at most one matches.
    left join {{ ref('measure_bands') }} as {{ m }}__band
        on {{ m }}__band.measure = '{{ m }}'
        and ({{ m }}__band.lower_bound is null or valued.{{ m }}__value >= {{ m }}__band.lower_bound)
        and ({{ m }}__band.upper_bound is null or valued.{{ m }}__value < {{ m }}__band.upper_bound)
    {%- endfor %}
    left join percentile_ranks
        on valued.account_id = percentile_ranks.account_id
        and valued.score_date = percentile_ranks.score_date
),

measure_columns as (
    select * from pointed
),

-- Each scorecard's weights as columns: the measure's weight inside its component, the component's weight
-- in the scorecard, and their product. A measure without a weight row is not part of the scorecard.
scorecard_weights as (
    select
        weights.scorecard
        {%- for m in measures %},
        max(case when weights.measure = '{{ m }}' then weights.weight end) as {{ m }}__measure_weight,
        max(case when weights.measure = '{{ m }}' then components.weight end) as {{ m }}__component_weight,
        max(case when weights.measure = '{{ m }}' then components.weight * weights.weight end) as {{ m }}__weight
        {%- endfor %}
    from {{ ref('scorecard_measure_weights') }} as weights
    inner join {{ ref('measures') }} as measures
        on weights.measure = measures.measure
    inner join {{ ref('scorecard_components') }} as components
        on weights.scorecard = components.scorecard
        and measures.component = components.component
    group by weights.scorecard
),

weighted as (
    select
        days.account_id,
        days.segment,
        days.lifecycle_stage,
        days.scorecard,
        scorecards.min_coverage,
        days.score_date,
        {%- for m in measures %}
        measure_columns.{{ m }}__value,
        measure_columns.{{ m }}__points,
        scorecard_weights.{{ m }}__measure_weight,
        scorecard_weights.{{ m }}__component_weight,
        scorecard_weights.{{ m }}__weight,
        measure_settings.{{ m }}__component,
        {%- endfor %}
        -- Exact decimal sums, divided once: the same total on every engine and every run. Each term is cast
        -- to a narrow decimal first: every `+` widens the type by a digit, and past 38 digits Spark drops
        -- scale (a sum of the 21 raw products came out rounded to 6 places, DuckDB's to 18).
        {{ sum_over_measures("case when {m}__points is not null then cast({m}__weight as decimal(16, 12)) else 0 end", measures) }}
            as weight_with_data,
        {{ sum_over_measures(
            "case when {m}__points is not null then cast({m}__weight * {m}__points as decimal(22, 18)) else 0 end",
            measures
        ) }} as weighted_points,
        {{ sum_over_measures("{m}__weight", measures) }} as weight_configured
    from days
    left join measure_columns
        on days.account_id = measure_columns.account_id
        and days.score_date = measure_columns.score_date
    left join scorecard_weights
        on days.scorecard = scorecard_weights.scorecard
    left join {{ ref('scorecards') }} as scorecards
        on days.scorecard = scorecards.scorecard
    cross join measure_settings
),

rounded as (
    select
        *,
        {{ score_value('case when weight_with_data > 0 then cast(weighted_points as double) / weight_with_data end') }}
            as account_day_total
        {%- for m in measures %},
        case when {{ m }}__weight is not null then {{ score_value(
            'case when ' ~ m ~ '__points is not null and weight_with_data > 0'
            ~ ' then cast(' ~ m ~ '__weight as double) / weight_with_data else 0 end'
        ) }} end as {{ m }}__effective_weight,
        case when {{ m }}__weight is not null then {{ score_value(
            'case when ' ~ m ~ '__points is not null and weight_with_data > 0'
            ~ ' then cast(' ~ m ~ '__points * ' ~ m ~ '__weight as double) / weight_with_data else 0 end'
        ) }} end as {{ m }}__rounded_contribution
        {%- endfor %}
    from weighted
),

balanced as (
    select
        *,
        account_day_total - {{ sum_over_measures("{m}__rounded_contribution", measures) }} as remainder,
        {{ first_measure_where_equal(
            "{m}__rounded_contribution", greatest_over_measures("{m}__rounded_contribution", measures), measures
        ) }} as largest_contribution_measure
    from rounded
),

contributed as (
    select
        *
        {%- for m in measures %},
        cast(case
            when largest_contribution_measure = '{{ m }}' and account_day_total is not null
                then {{ m }}__rounded_contribution + remainder
            else {{ m }}__rounded_contribution
        end as decimal(10, 6)) as {{ m }}__contribution,
        case
            when {{ m }}__points is not null and {{ m }}__effective_weight > 0
                then {{ m }}__effective_weight * (100 - {{ m }}__points)
        end as {{ m }}__lost_points
        {%- endfor %}
    from balanced
),

totals as (
    select
        *,
        cast({{ sum_over_measures("{m}__contribution", measures) }} as decimal(10, 6)) as uncapped_score,
        {%- for component in ['usage', 'support', 'payment', 'feedback', 'milestones'] %}
        {{ score_value(
            "cast(" ~ sum_over_measures(
                "case when {m}__component = '" ~ component ~ "' and {m}__points is not null and {m}__weight is not null"
                ~ " then cast({m}__measure_weight * {m}__points as decimal(16, 12)) end", measures)
            ~ " as double) / nullif(" ~ sum_over_measures(
                "case when {m}__component = '" ~ component ~ "' and {m}__points is not null and {m}__weight is not null"
                ~ " then {m}__measure_weight end", measures)
            ~ ", 0)"
        ) }} as {{ component }}_score,
        cast({{ sum_over_measures(
            "case when {m}__component = '" ~ component ~ "' then {m}__contribution end", measures
        ) }} as decimal(10, 6)) as {{ component }}_contribution,
        {%- endfor %}
        {{ greatest_over_measures("{m}__lost_points", measures) }} as driver_lost_points
    from contributed
),

driven as (
    select
        *,
        case
            when driver_lost_points > 0
                then {{ first_measure_where_equal("{m}__lost_points", "driver_lost_points", measures) }}
        end as driver_measure
    from totals
),

-- Caps look at the few measures they name, so they are judged on the long rows of those measures (of the
-- day's scorecard) rather than on the wide ones.
triggered_caps as (
    select
        measure_values.account_id,
        measure_values.score_date,
        caps.cap,
        caps.reason as cap_reason,
        cast(caps.max_score as decimal(10, 6)) as cap_score,
        row_number() over (
            partition by measure_values.account_id, measure_values.score_date order by caps.max_score, caps.cap
        ) as strictness
    from {{ ref('int_account_measures_unioned') }} as measure_values
    inner join {{ ref('score_caps') }} as caps
        on measure_values.measure = caps.measure
    -- Only measures of the day's scorecard count, as for the score itself.
    inner join {{ ref('scorecard_measure_weights') }} as weights
        on measure_values.scorecard = weights.scorecard
        and measure_values.measure = weights.measure
    inner join {{ ref('measures') }} as measures
        on measure_values.measure = measures.measure
    inner join {{ ref('scorecard_components') }} as components
        on measure_values.scorecard = components.scorecard
        and measures.component = components.component
    where measure_values.is_history_day
      and (
        (caps.comparison = 'greater_than' and measure_values.measure_value > caps.threshold)
        or (caps.comparison = 'less_than' and measure_values.measure_value < caps.threshold)
      )
),

strictest_cap as (
    select * from triggered_caps where strictness = 1
),

scored as (
    select
        driven.*,
        {{ score_value('case when weight_configured > 0 then cast(weight_with_data as double) / weight_configured else 0 end') }}
            as coverage,
        strictest_cap.cap,
        strictest_cap.cap_reason,
        strictest_cap.cap_score,
        measures.component as driver_component,
        replace(replace(replace(
            measures.driver_template,
            '{value}', {{ format_measure_value(of_measure('{m}__value', 'driven.driver_measure', measures), 'measures.unit') }}),
            '{window}', cast(measures.window_days as {{ dbt.type_string() }})),
            '{change}', case when {{ of_measure('{m}__value', 'driven.driver_measure', measures) }} < 0 then 'down ' else 'up ' end
                || {{ format_measure_value(of_measure('{m}__value', 'driven.driver_measure', measures), "'change'") }}
        ) as driver_reason
    from driven
    left join strictest_cap
        on driven.account_id = strictest_cap.account_id
        and driven.score_date = strictest_cap.score_date
    left join {{ ref('measures') }} as measures
        on driven.driver_measure = measures.measure
),

decided as (
    select
        *,
        coalesce(coverage, 0) > 0 and coverage >= min_coverage as has_enough_data,
        cap_score is not null and cap_score < uncapped_score as is_capped
    from scored
),

final as (
    select
        account_id,
        segment,
        lifecycle_stage,
        scorecard,
        case when has_enough_data then 'scored' else 'insufficient_data' end as score_status,
        case
            when coalesce(coverage, 0) = 0 then 'insufficient data: no measure of the scorecard has data'
            when not has_enough_data
                then 'insufficient data: ' || {{ format_measure_value('coverage', "'ratio'") }}
                    || ' of the scorecard weight has data, ' || {{ format_measure_value('min_coverage', "'ratio'") }}
                    || ' needed'
        end as status_reason,
        case when has_enough_data and is_capped then cap end as capped_by,
        case
            when not has_enough_data then null
            when is_capped and cap_score - uncapped_score < -1 * coalesce(driver_lost_points, 0)
                then 'capped: ' || cap_reason
            else driver_reason
        end as top_driver_reason,
        case
            when not has_enough_data then null
            when is_capped and cap_score - uncapped_score < -1 * coalesce(driver_lost_points, 0) then 'cap:' || cap
            else driver_measure
        end as top_driver,
        case when has_enough_data then driver_component end as weakest_component,
        case
            when not has_enough_data then null
            when is_capped then cap_score
            else uncapped_score
        end as health_score,
        case when has_enough_data then uncapped_score end as uncapped_score,
        cast(case when has_enough_data and is_capped then cap_score - uncapped_score else 0 end as decimal(10, 6))
            as cap_adjustment,
        coverage,
        min_coverage,
        {%- for component in ['usage', 'support', 'payment', 'feedback', 'milestones'] %}
        {{ component }}_score,
        case when has_enough_data then {{ component }}_contribution end as {{ component }}_contribution,
        {%- endfor %}
        weight_with_data,
        {%- for m in measures %}
        {{ m }}__value,
        {{ m }}__points,
        {{ m }}__measure_weight,
        {{ m }}__component_weight,
        {{ m }}__weight,
        {{ m }}__effective_weight,
        {{ m }}__contribution,
        {%- endfor %}
        score_date
    from decided
)

select * from final
