-- Why a score changed: for every account-day this build scores and each window (7 and 30 days), the
-- change of the health score against the earlier day (account_health_history.change_7d / change_30d,
-- which stay empty across configuration versions: here the difference is still split) exactly into drivers: each measure, the cap, and the configuration when the two days were
-- scored with different configurations or scorecards. One row per driver that moved the score; drivers
-- that moved it by 0 are not stored.
--
-- A day's score is the sum of its measure contributions plus its cap adjustment, so the change is the sum
-- of the measures' contribution changes plus the cap adjustment's change; a measure scored on only one of
-- the two days counts with 0 on the other. When the configuration differs, a measure's contribution
-- change is split at the earlier day rescaled to the later day's weights (its points kept, its weight and
-- the day's weight with data taken from the later day's scorecard): what the rescaling moves belongs to
-- the 'configuration' driver, the rest (the points moving, data appearing or vanishing) to the measure.
-- The rescaled contribution is rounded like a stored one; whatever it is, the two parts add up to the
-- stored contributions' difference, so every split is exact in fixed-point arithmetic.
--
-- Incremental like int_account_measure_contributions: a build adds the days it scores and keeps the rest;
-- `--vars '{rebuild_history: true}'` rebuilds everything. The earlier days come from this build's scores
-- when it scored them, else from the stored contributions, pivoted for only the days looked back to.
{{ config(
    materialized='incremental',
    full_refresh=var('rebuild_history', false),
    on_schema_change='append_new_columns',
    **incremental_replacement('score_date', unique_key='score_date'),
) }}
{%- set measures = scored_measures() %}
{%- set measure_fields = ['value', 'points', 'weight', 'contribution'] %}

with scored as (
    select * from {{ ref('int_account_health_scored') }}
),

history as (
    select * from {{ ref('account_health_history') }}
),

windows as (
    {{ score_change_window_rows() }}
),

first_scored_day as (
    select min(score_date) as first_score_date from scored
),

-- Every change this build scores: an account-day of the build and a window whose earlier day had a score.
-- The change is the difference of the two scores: the history's change_7d / change_30d, or, where the
-- two days were scored with different configuration versions and the history leaves its change empty,
-- the difference that the configuration driver (and whatever else moved) explains.
changes as (
    select
        history.account_id,
        history.scorecard,
        history.config_version,
        earlier_history.scorecard as scorecard_before,
        earlier_history.config_version as config_version_before,
        windows.window_days,
        cast(history.health_score - earlier_history.health_score as decimal(10, 6)) as score_change,
        earlier_history.cap_adjustment as cap_adjustment_before,
        history.cap_adjustment,
        earlier_history.score_date as comparison_date,
        history.score_date
    from history
    cross join windows
    inner join history as earlier_history
        on history.account_id = earlier_history.account_id
        and earlier_history.score_date
            = cast({{ dbt.dateadd('day', '(-1 * windows.window_days)', 'history.score_date') }} as date)
    where history.score_date >= (select first_score_date from first_scored_day)
),

defined_changes as (
    select * from changes where score_change is not null
),

-- Earlier days this build did not score, as one row per account-day with columns per measure like the
-- scores of this build: only the days a change looks back to, a few at most in a daily refresh.
stored_earlier_days as (
    select
        contributions.account_id,
        contributions.score_date,
        max(contributions.weight_with_data) as weight_with_data
        {%- for m in measures %}
        {%- for field, column in [('value', 'measure_value'), ('points', 'measure_points'), ('weight', 'scorecard_weight'), ('contribution', 'contribution')] %},
        max(case when contributions.measure = '{{ m }}' then contributions.{{ column }} end) as {{ m }}__{{ field }}
        {%- endfor %}
        {%- endfor %}
    from {{ ref('int_account_measure_contributions') }} as contributions
    where contributions.score_date < (select first_score_date from first_scored_day)
      and contributions.score_date in (select comparison_date from defined_changes)
    group by contributions.account_id, contributions.score_date
),

earlier_days as (
    select
        account_id,
        score_date,
        weight_with_data
        {%- for m in measures %}
        {%- for field in measure_fields %},
        {{ m }}__{{ field }}
        {%- endfor %}
        {%- endfor %}
    from scored
    union all
    select * from stored_earlier_days
),

paired as (
    select
        defined_changes.account_id,
        defined_changes.window_days,
        defined_changes.score_change,
        defined_changes.config_version <> defined_changes.config_version_before
            or defined_changes.scorecard <> defined_changes.scorecard_before as is_config_changed,
        defined_changes.cap_adjustment_before,
        defined_changes.cap_adjustment as cap_adjustment_after,
        earlier_days.weight_with_data as weight_with_data_before,
        later_days.weight_with_data as weight_with_data_after,
        -- The earlier day's weight with data under the later day's weights: the sum of the later day's
        -- scorecard weights of the measures that had data on the earlier day.
        {{ sum_over_measures("case when earlier_days.{m}__points is not null then later_days.{m}__weight end", measures) }}
            as weight_with_data_rescaled
        {%- for m in measures %}
        {%- for field in measure_fields %},
        earlier_days.{{ m }}__{{ field }} as {{ m }}__{{ field }}_before,
        later_days.{{ m }}__{{ field }} as {{ m }}__{{ field }}_after
        {%- endfor %}
        {%- endfor %},
        defined_changes.comparison_date,
        defined_changes.score_date
    from defined_changes
    inner join scored as later_days
        on defined_changes.account_id = later_days.account_id
        and defined_changes.score_date = later_days.score_date
    inner join earlier_days
        on defined_changes.account_id = earlier_days.account_id
        and defined_changes.comparison_date = earlier_days.score_date
),

-- Each measure's earlier contribution rescaled to the later day's weights. Without a configuration
-- change, or when neither the measure's weight nor the day's weight with data moved, it is the stored
-- contribution itself (computing it again could differ by the rounding remainder the stored largest
-- contribution absorbed).
rescaled as (
    select
        *
        {%- for m in measures %},
        case
            when not is_config_changed
                or (coalesce({{ m }}__weight_after, 0) = coalesce({{ m }}__weight_before, 0)
                    and weight_with_data_rescaled = weight_with_data_before)
                then coalesce({{ m }}__contribution_before, 0)
            else {{ score_value(
                'case when ' ~ m ~ '__points_before is not null and weight_with_data_rescaled > 0'
                ~ ' then cast(' ~ m ~ '__points_before * coalesce(' ~ m ~ '__weight_after, 0) as double)'
                ~ ' / weight_with_data_rescaled else 0 end'
            ) }}
        end as {{ m }}__contribution_rescaled
        {%- endfor %}
    from paired
),

-- A measure whose data appeared or vanished between the two days (with a weight on the later day's
-- scorecard) moves the score twice: by its own contribution, and by diluting or concentrating the
-- effective weights of every measure with data on both days. Both belong to it. So, when the measures
-- with data differ:
--   a measure with data on both days gets its own movement, (points now - points then) x its effective
--     weight now;
--   what the measures with data on both days changed beyond that (the dilution) goes to the measures whose
--     data changed, in proportion to the weight each added (+) or took away (-), the first of them in
--     name order taking the rounding remainder;
-- and a measure whose data changed gets its contribution change plus its share of the dilution.
-- When the same measures have data on both days, each measure's driver is its contribution change.
data_changes as (
    select
        *
        {%- for m in measures %},
        {{ m }}__points_before is not null and {{ m }}__points_after is not null as {{ m }}__has_data_both_days,
        coalesce({{ m }}__weight_after, 0) > 0
            and ({{ m }}__points_before is null) <> ({{ m }}__points_after is null) as {{ m }}__is_data_changed,
        case
            when coalesce({{ m }}__weight_after, 0) = 0 then 0
            when {{ m }}__points_before is null and {{ m }}__points_after is not null then {{ m }}__weight_after
            when {{ m }}__points_before is not null and {{ m }}__points_after is null then -1 * {{ m }}__weight_after
            else 0
        end as {{ m }}__weight_added,
        case when {{ m }}__points_before is not null and {{ m }}__points_after is not null then {{ score_value(
            'cast((' ~ m ~ '__points_after - ' ~ m ~ '__points_before) * coalesce(' ~ m ~ '__weight_after, 0) as double)'
            ~ ' / weight_with_data_after'
        ) }} end as {{ m }}__own_change
        {%- endfor %}
    from rescaled
),

dilutions as (
    select
        *,
        {{ sum_over_measures(
            "case when {m}__has_data_both_days then coalesce({m}__contribution_after, 0) - {m}__contribution_rescaled - {m}__own_change end",
            measures
        ) }} as dilution_points,
        {{ sum_over_measures("{m}__weight_added", measures) }} as weight_added,
        {{ first_measure_where_equal("case when {m}__is_data_changed then 1 else 0 end", "1", measures) }}
            as remainder_measure
    from data_changes
),

dilution_shares as (
    select
        *
        {%- for m in measures %},
        case
            when {{ m }}__is_data_changed and weight_added <> 0 and remainder_measure <> '{{ m }}'
                then {{ score_value('cast(dilution_points * ' ~ m ~ '__weight_added as double) / weight_added') }}
            else 0
        end as {{ m }}__dilution_share
        {%- endfor %}
    from dilutions
),

measure_drivers as (
    select
        *
        {%- for m in measures %},
        case
            when remainder_measure is null then coalesce({{ m }}__contribution_after, 0) - {{ m }}__contribution_rescaled
            when {{ m }}__has_data_both_days then {{ m }}__own_change
            when remainder_measure = '{{ m }}'
                then coalesce({{ m }}__contribution_after, 0) - {{ m }}__contribution_rescaled
                    + dilution_points - {{ sum_over_measures("{m}__dilution_share", measures) }}
            else coalesce({{ m }}__contribution_after, 0) - {{ m }}__contribution_rescaled + {{ m }}__dilution_share
        end as {{ m }}__change_points
        {%- endfor %}
    from dilution_shares
),

-- Each measure's component, as columns of a single row.
measure_components as (
    select
        {%- for m in measures %}
        max(case when measure = '{{ m }}' then component end) as {{ m }}__component{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('measures') }}
),

-- Per component, its drivers' total and the measure that moved it most (ties: the first in name order),
-- worked out across the columns of a row: the explanation reads them off the stored drivers without
-- sorting every driver row again.
component_groups as (
    select
        measure_drivers.*
        {%- for component in score_components() %},
        {{ sum_over_measures(
            "case when measure_components.{m}__component = '" ~ component ~ "' then {m}__change_points end", measures
        ) }} as {{ component }}__change_points,
        {{ first_measure_where_equal(
            "case when measure_components.{m}__component = '" ~ component ~ "' then abs({m}__change_points) end",
            greatest_over_measures(
                "case when measure_components.{m}__component = '" ~ component ~ "' then abs({m}__change_points) end",
                measures
            ),
            measures
        ) }} as {{ component }}__top_measure
        {%- endfor %}
    from measure_drivers
    cross join measure_components
),

-- The drivers a change can have: every configured measure, the cap and the configuration.
drivers as (
    select measure as driver, 'measure' as driver_type, component from {{ ref('measures') }}
    union all
    select 'cap', 'cap', cast(null as {{ dbt.type_string() }})
    union all
    select 'configuration', 'configuration', cast(null as {{ dbt.type_string() }})
),

-- One row per change and driver, in a single pass over the wide rows (a union of one select per driver
-- would read them once per driver).
unpivoted as (
    select
        component_groups.account_id,
        drivers.driver,
        drivers.driver_type,
        drivers.component,
        component_groups.window_days,
        cast(case
            when drivers.driver = 'cap' then component_groups.cap_adjustment_after - component_groups.cap_adjustment_before
            when drivers.driver = 'configuration'
                then {{ sum_over_measures("{m}__contribution_rescaled - coalesce({m}__contribution_before, 0)", measures) }}
            else {{ of_measure("{m}__change_points", 'drivers.driver', measures) }}
        end as decimal(10, 6)) as change_points,
        -- The total of the measure's component (null for the cap and the configuration).
        cast(case
            {%- for component in score_components() %}
            when drivers.component = '{{ component }}' then component_groups.{{ component }}__change_points
            {%- endfor %}
        end as decimal(10, 6)) as component_change_points,
        {{ of_measure('{m}__value_before', 'drivers.driver', measures) }} as measure_value_before,
        {{ of_measure('{m}__value_after', 'drivers.driver', measures) }} as measure_value_after,
        {{ of_measure('{m}__points_before', 'drivers.driver', measures) }} as measure_points_before,
        {{ of_measure('{m}__points_after', 'drivers.driver', measures) }} as measure_points_after,
        cast(case
            when drivers.driver = 'cap' then component_groups.cap_adjustment_before
            else {{ of_measure('{m}__contribution_before', 'drivers.driver', measures) }}
        end as decimal(10, 6)) as contribution_before,
        cast(case
            when drivers.driver = 'cap' then component_groups.cap_adjustment_after
            else {{ of_measure('{m}__contribution_after', 'drivers.driver', measures) }}
        end as decimal(10, 6)) as contribution_after,
        -- The measure moved its component most (the cap and the configuration are groups of their own).
        case
            {%- for component in score_components() %}
            when drivers.component = '{{ component }}' then drivers.driver = component_groups.{{ component }}__top_measure
            {%- endfor %}
            else true
        end as is_top_of_group,
        component_groups.comparison_date,
        component_groups.score_date
    from component_groups
    cross join drivers
)

select
    *,
    cast({{ dbt.current_timestamp() }} as timestamp) as scored_at
from unpivoted
where change_points <> 0
