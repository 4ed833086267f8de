-- One row per account-day: the health score (sum of the measure contributions), lowered by the strictest
-- cap that applies, or no score when too little of the scorecard's weight is backed by data; component
-- scores and contributions; and the strongest negative driver with a sentence a CSM can act on.
with contributions as (
    select * from {{ ref('int_account_measure_contributions') }}
),

days as (
    select * from {{ ref('int_account_days_assigned') }} where is_history_day
),

totals as (
    select
        account_id,
        score_date,
        cast(sum(contribution) as decimal(10, 6)) as uncapped_score,
        max(weight_with_data) as weight_with_data,
        sum(scorecard_weight) as weight_configured,
        {%- for component in ['usage', 'support', 'payment', 'feedback', 'milestones'] %}
        {{ score_value(
            "cast(sum(case when component = '" ~ component ~ "' and has_data then measure_weight * measure_points end) as double)"
            ~ " / nullif(sum(case when component = '" ~ component ~ "' and has_data then measure_weight end), 0)"
        ) }} as {{ component }}_score,
        cast(sum(case when component = '{{ component }}' then contribution else 0 end) as decimal(10, 6))
            as {{ component }}_contribution
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from contributions
    group by account_id, score_date
),

triggered_caps as (
    select
        contributions.account_id,
        contributions.score_date,
        caps.cap,
        caps.reason as cap_reason,
        cast(caps.max_score as decimal(10, 6)) as cap_score,
        row_number() over (
            partition by contributions.account_id, contributions.score_date order by caps.max_score, caps.cap
        ) as strictness
    from contributions
    inner join {{ ref('score_caps') }} as caps
        on contributions.measure = caps.measure
    where (caps.comparison = 'greater_than' and contributions.measure_value > caps.threshold)
       or (caps.comparison = 'less_than' and contributions.measure_value < caps.threshold)
),

strictest_cap as (
    select * from triggered_caps where strictness = 1
),

drivers as (
    select
        account_id,
        score_date,
        measure,
        component,
        lost_points,
        replace(replace(replace(
            driver_template,
            '{value}', {{ format_measure_value('measure_value', 'unit') }}),
            '{window}', cast(window_days as {{ dbt.type_string() }})),
            '{change}', case when measure_value < 0 then 'down ' else 'up ' end
                || {{ format_measure_value('measure_value', "'change'") }}
        ) as driver_reason
    from (
        select
            *,
            effective_weight * (100 - measure_points) as lost_points,
            row_number() over (
                partition by account_id, score_date
                order by effective_weight * (100 - measure_points) desc, measure
            ) as loss_rank
        from contributions
        where has_data and effective_weight > 0
    ) as losses
    where loss_rank = 1 and lost_points > 0
),

scored as (
    select
        days.account_id,
        days.segment,
        days.lifecycle_stage,
        days.scorecard,
        scorecards.min_coverage,
        totals.uncapped_score,
        {{ score_value('case when totals.weight_configured > 0 then cast(totals.weight_with_data as double) / totals.weight_configured else 0 end') }}
            as coverage,
        strictest_cap.cap,
        strictest_cap.cap_reason,
        strictest_cap.cap_score,
        {%- for component in ['usage', 'support', 'payment', 'feedback', 'milestones'] %}
        totals.{{ component }}_score,
        totals.{{ component }}_contribution,
        {%- endfor %}
        drivers.measure as driver_measure,
        drivers.component as driver_component,
        drivers.lost_points as driver_lost_points,
        drivers.driver_reason,
        days.score_date
    from days
    left join totals
        on days.account_id = totals.account_id
        and days.score_date = totals.score_date
    left join {{ ref('scorecards') }} as scorecards
        on days.scorecard = scorecards.scorecard
    left join strictest_cap
        on days.account_id = strictest_cap.account_id
        and days.score_date = strictest_cap.score_date
    left join drivers
        on days.account_id = drivers.account_id
        and days.score_date = drivers.score_date
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
        score_date
    from decided
)

select * from final
