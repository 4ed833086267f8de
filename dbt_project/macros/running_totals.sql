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
