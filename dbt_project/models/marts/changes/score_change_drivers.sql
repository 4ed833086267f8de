-- What moved each score: one row per account, day, window (7 and 30 days) and driver (a measure, the cap
-- or the configuration) whose share of the change is not 0, with the measure's value, points and
-- contribution then and now. An account-day-window's `change_points` add up exactly to its change in
-- account_health_history. A view of int_score_changes_decomposed, which keeps the history: storing it
-- twice would double the cost of every build.
{{ config(materialized=mart_view()) }}

select
    decomposed.account_id || '|' || cast(decomposed.score_date as {{ dbt.type_string() }}) || '|'
        || cast(decomposed.window_days as {{ dbt.type_string() }}) || '|' || decomposed.driver as score_change_driver_id,
    decomposed.account_id,
    decomposed.driver,
    decomposed.driver_type,
    decomposed.component,
    case
        when decomposed.driver_type = 'measure' then measures.label
        when decomposed.driver_type = 'cap' then 'score cap'
        else 'scoring configuration'
    end as driver_label,
    measures.unit,
    decomposed.window_days,
    decomposed.change_points,
    decomposed.component_change_points,
    decomposed.measure_value_before,
    decomposed.measure_value_after,
    decomposed.measure_points_before,
    decomposed.measure_points_after,
    decomposed.contribution_before,
    decomposed.contribution_after,
    decomposed.is_top_of_group,
    decomposed.comparison_date,
    decomposed.score_date,
    decomposed.scored_at
from {{ ref('int_score_changes_decomposed') }} as decomposed
left join {{ ref('measures') }} as measures
    on decomposed.driver = measures.measure
