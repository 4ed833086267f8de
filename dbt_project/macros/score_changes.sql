{#- The windows a score change is measured over, with the column of account_health_history that holds
    each change. The decomposition must add up to exactly those columns, so the windows are theirs and
    not a setting: another window needs another history column first. -#}
{% macro score_change_windows() %}
    {{ return({7: 'change_7d', 30: 'change_30d'}) }}
{% endmacro %}

{#- The windows as a relation of one column, `window_days`. -#}
{% macro score_change_window_rows() %}
    {%- for days in score_change_windows() %}
    select {{ days }} as window_days
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{% endmacro %}

{#- Points with their sign and one decimal, as a change reads: +2.5, -9.0. -#}
{% macro format_signed_points(points) %}
    case when {{ points }} < 0 then '-' else '+' end
        || cast(cast(abs({{ points }}) as decimal(10, 1)) as {{ dbt.type_string() }})
{%- endmacro %}

{#- The components drivers are grouped by, as int_account_health_scored lists them (and the measures
    seed accepts). -#}
{% macro score_components() %}
    {{ return(['usage', 'support', 'payment', 'feedback', 'milestones']) }}
{% endmacro %}
