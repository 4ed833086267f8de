{#- Window totals in one pass over the data instead of one join per scored day.

    `changes` holds, per account and `window_days`, the amounts by which each total changes on
    `change_date`: an item counted in the windows of days S to E adds its value on S and takes it back on
    E + 1. A day's total is then the sum of all changes up to and including that day. The changes are
    interleaved with the `grid` days (account_id, window_days, score_date) and summed in date order, a
    day's own changes before the day itself; only the grid rows are kept. The cost grows with the number
    of items and days, not with items x window length, and the grid need not be contiguous.

    Returns account_id, window_days, score_date and one column per name in `totals` (0 when nothing
    was ever counted). -#}
{% macro running_totals(grid, changes, totals) %}
    select account_id, window_days, score_date
        {%- for total in totals %},
        coalesce({{ total }}, 0) as {{ total }}
        {%- endfor %}
    from (
        select
            account_id,
            window_days,
            score_date,
            is_grid_day
            {%- for total in totals %},
            sum({{ total }}) over (
                partition by account_id, window_days
                order by score_date, is_grid_day
                rows between unbounded preceding and current row
            ) as {{ total }}
            {%- endfor %}
        from (
            select
                changes.account_id,
                changes.window_days,
                changes.change_date as score_date,
                0 as is_grid_day
                {%- for total in totals %},
                changes.{{ total }}
                {%- endfor %}
            from {{ changes }} as changes
            where changes.account_id in (select account_id from {{ grid }})
            union all
            select
                grid.account_id,
                grid.window_days,
                grid.score_date,
                1 as is_grid_day
                {%- for total in totals %},
                null
                {%- endfor %}
            from {{ grid }} as grid
        ) as timeline
    ) as summed
    where is_grid_day = 1
{% endmacro %}

{#- The changes of `running_totals` for items counted on the days `first_day` to `last_day` (inclusive;
    `last_day` null: open-ended): each value added on the first day and taken back the day after the
    last. `values` maps total names to expressions. Empty ranges contribute nothing. -#}
{% macro range_changes(relation, first_day, last_day, values, where='1 = 1') %}
    select
        account_id,
        window_days,
        {{ first_day }} as change_date
        {%- for name, expression in values.items() %},
        {{ expression }} as {{ name }}
        {%- endfor %}
    from {{ relation }}
    where ({{ where }}) and ({{ last_day }} is null or {{ last_day }} >= {{ first_day }})
    union all
    select
        account_id,
        window_days,
        cast({{ dbt.dateadd('day', 1, last_day) }} as date) as change_date
        {%- for name, expression in values.items() %},
        -1 * ({{ expression }}) as {{ name }}
        {%- endfor %}
    from {{ relation }}
    where ({{ where }}) and {{ last_day }} is not null and {{ last_day }} >= {{ first_day }}
{% endmacro %}

{#- The changes of `running_totals` that count distinct `entity` values (users, features) active in each
    window: an entity active on day A counts in the windows ending on A to A + window - 1, so its activity
    days merge into runs (gaps and islands); a run adds one to `total` on its first day and takes it back the
    day its last window ends. `relation` has account_id, `entity` and activity_date, one row per active day;
    `windows` has window_days. The other names in `totals` (all totals, in their order) get 0. -#}
{% macro distinct_activity_changes(relation, entity, windows, total, totals) %}
    select
        runs.account_id,
        runs.window_days,
        case
            when edges.change = 1 then runs.activity_date
            else cast({{ dbt.dateadd('day', 'runs.window_days', 'runs.activity_date') }} as date)
        end as change_date
        {%- for name in totals %},
        {{ 'edges.change' if name == total else '0' }} as {{ name }}
        {%- endfor %}
    from (
        select
            activity.account_id,
            windows.window_days,
            activity.activity_date,
            lag(activity.activity_date) over (
                partition by activity.account_id, activity.{{ entity }}, windows.window_days
                order by activity.activity_date
            ) as previous_activity_date,
            lead(activity.activity_date) over (
                partition by activity.account_id, activity.{{ entity }}, windows.window_days
                order by activity.activity_date
            ) as next_activity_date
        from {{ relation }} as activity
        cross join {{ windows }} as windows
    ) as runs
    cross join (select 1 as change union all select -1 as change) as edges
    -- A run starts after a gap of at least a window, and ends when the next activity is at least a window away.
    where (
        edges.change = 1
        and (runs.previous_activity_date is null
            or {{ dbt.datediff('runs.previous_activity_date', 'runs.activity_date', 'day') }} >= runs.window_days)
    ) or (
        edges.change = -1
        and (runs.next_activity_date is null
            or {{ dbt.datediff('runs.activity_date', 'runs.next_activity_date', 'day') }} >= runs.window_days)
    )
{% endmacro %}
