-- Why a score changed, in one sentence: one row per account, day and window (7 and 30 days) whose score
-- and earlier score both exist, with the change (account_health_history.change_7d / change_30d, or where
-- the configuration version differs and the history leaves those empty, the difference of the scores), the
-- scores and scorecards of the two days, whether the configuration or scorecard differed, and an
-- explanation built from the drivers of int_score_changes_decomposed: grouped by component (the cap and
-- the configuration are groups of their own), largest first, each group with its points and the measure
-- that moved it most, named with its label and its value then and now (seeds/measures.csv), e.g.
-- "down 12.0 points: usage -9.0 (active users per seat 62% -> 31%), support -3.0 (tickets per seat 0.1 -> 0.4)".
-- At most `explanation_max_groups` groups are named, groups below `explanation_min_points` are left out
-- and the rest is summed as "other" (seeds/score_change_settings.csv).
--
-- History-shaped, so incremental like account_health_history: a build writes the days it scores.
{{ config(
    materialized='incremental',
    full_refresh=var('rebuild_history', false),
    on_schema_change='append_new_columns',
    **incremental_replacement('score_date', unique_key='score_date'),
) }}

{%- set min_points = seed_setting('score_change_settings', 'explanation_min_points') %}

with history as (
    select * from {{ ref('account_health_history') }}
),

scored_days as (
    select min(score_date) as first_score_date
    from {{ ref('int_account_days_assigned') }}
    where is_history_day
),

drivers as (
    select *
    from {{ ref('int_score_changes_decomposed') }}
    where score_date >= (select first_score_date from scored_days)
),

measures as (
    select * from {{ ref('measures') }}
),

caps as (
    select * from {{ ref('score_caps') }}
),

windows as (
    {{ score_change_window_rows() }}
),

changes as (
    select
        history.account_id,
        history.scorecard,
        history.config_version,
        history.capped_by,
        windows.window_days,
        history.health_score,
        cast({{ dbt.dateadd('day', '(-1 * windows.window_days)', 'history.score_date') }} as date) as comparison_date,
        history.score_date
    from history
    cross join windows
    where history.score_date >= (select first_score_date from scored_days)
),

paired as (
    select
        changes.account_id,
        earlier.scorecard as scorecard_before,
        changes.scorecard as scorecard_after,
        earlier.capped_by as capped_by_before,
        changes.capped_by as capped_by_after,
        changes.window_days,
        earlier.health_score as score_before,
        changes.health_score as score_after,
        -- The history's change, or across configuration versions the difference it leaves empty.
        cast(changes.health_score - earlier.health_score as decimal(10, 6)) as score_change,
        changes.config_version <> earlier.config_version as is_config_changed,
        changes.scorecard <> earlier.scorecard as is_scorecard_changed,
        changes.comparison_date,
        changes.score_date
    from changes
    inner join history as earlier
        on changes.account_id = earlier.account_id
        and changes.comparison_date = earlier.score_date
    where changes.health_score is not null
      and earlier.health_score is not null
),

-- One row per group (a component, the cap, the configuration) with the driver that moved it most, as
-- int_score_changes_decomposed marks them, ranked by how far the group moved the score.
driver_groups as (
    select
        drivers.*,
        coalesce(drivers.component, drivers.driver) as driver_group,
        coalesce(drivers.component_change_points, drivers.change_points) as group_points,
        row_number() over (
            partition by drivers.account_id, drivers.score_date, drivers.window_days
            order by abs(coalesce(drivers.component_change_points, drivers.change_points)) desc,
                coalesce(drivers.component, drivers.driver)
        ) as group_rank
    from drivers
    where drivers.is_top_of_group
),

named_groups as (
    select
        driver_groups.account_id,
        driver_groups.score_date,
        driver_groups.window_days,
        driver_groups.driver_group,
        driver_groups.group_points,
        driver_groups.group_rank,
        driver_groups.group_rank <= {{ seed_setting('score_change_settings', 'explanation_max_groups', 'integer') }}
            and abs(driver_groups.group_points) >= {{ min_points }}
            as is_named,
        driver_groups.driver_group || ' ' || {{ format_signed_points('driver_groups.group_points') }} || ' ('
            || case
                when driver_groups.driver_type = 'measure'
                    -- A change-type value keeps its sign here: format_measure_value drops it for "down 38%".
                    then measures.label || ' '
                        || case when measures.unit = 'change' and driver_groups.measure_value_before < 0 then '-' else '' end
                        || {{ format_measure_value('driver_groups.measure_value_before', 'measures.unit') }} || ' -> '
                        || case when measures.unit = 'change' and driver_groups.measure_value_after < 0 then '-' else '' end
                        || {{ format_measure_value('driver_groups.measure_value_after', 'measures.unit') }}
                when driver_groups.driver_type = 'cap' and paired.capped_by_after is not null
                    then 'capped: ' || cap_after.reason
                when driver_groups.driver_type = 'cap' then 'cap lifted: ' || cap_before.reason
                when paired.is_scorecard_changed
                    then 'scorecard ' || paired.scorecard_before || ' -> ' || paired.scorecard_after
                else 'scoring configuration changed'
            end || ')' as group_text
    from driver_groups
    inner join paired
        on driver_groups.account_id = paired.account_id
        and driver_groups.score_date = paired.score_date
        and driver_groups.window_days = paired.window_days
    left join measures
        on driver_groups.driver = measures.measure
    left join caps as cap_after
        on paired.capped_by_after = cap_after.cap
    left join caps as cap_before
        on paired.capped_by_before = cap_before.cap
),

-- The named groups are the first ranks (ranks go by size), at most one per component plus the cap and
-- the configuration: one column per rank joins them in order without sorting strings in an aggregate.
explained as (
    select
        account_id,
        score_date,
        window_days,
        max(case when group_rank = 1 then driver_group end) as top_driver_group
        {%- for rank in range(1, score_components() | length + 3) %},
        max(case when group_rank = {{ rank }} and is_named then group_text end) as group_text_{{ rank }}
        {%- endfor %},
        sum(case when not is_named then group_points else 0 end) as other_points,
        count(*) as driver_groups
    from named_groups
    group by account_id, score_date, window_days
),

named_texts as (
    select
        *,
        group_text_1
        {%- for rank in range(2, score_components() | length + 3) %}
            || coalesce(', ' || group_text_{{ rank }}, '')
        {%- endfor %} as named_groups_text
    from explained
),

final as (
    select
        paired.account_id || '|' || cast(paired.score_date as {{ dbt.type_string() }}) || '|'
            || cast(paired.window_days as {{ dbt.type_string() }}) as account_score_change_id,
        paired.account_id,
        paired.scorecard_before,
        paired.scorecard_after,
        explained.top_driver_group,
        case
            when paired.score_change > 0 then 'up ' || cast(cast(paired.score_change as decimal(10, 1)) as {{ dbt.type_string() }}) || ' points'
            when paired.score_change < 0 then 'down ' || cast(cast(-1 * paired.score_change as decimal(10, 1)) as {{ dbt.type_string() }}) || ' points'
            else 'unchanged'
        end
            || case
                when explained.named_groups_text is not null or abs(explained.other_points) >= {{ min_points }}
                    then ': ' || coalesce(explained.named_groups_text, '')
                        || case
                            when abs(explained.other_points) >= {{ min_points }}
                                then case when explained.named_groups_text is not null then ', ' else '' end
                                    || 'other ' || {{ format_signed_points('explained.other_points') }}
                            else ''
                        end
                else ''
            end as explanation,
        paired.window_days,
        paired.score_before,
        paired.score_after,
        paired.score_change,
        coalesce(explained.driver_groups, 0) as driver_groups,
        paired.is_config_changed,
        paired.is_scorecard_changed,
        paired.comparison_date,
        paired.score_date,
        cast({{ dbt.current_timestamp() }} as timestamp) as scored_at
    from paired
    left join named_texts as explained
        on paired.account_id = explained.account_id
        and paired.score_date = explained.score_date
        and paired.window_days = explained.window_days
)

select * from final
