{#- A measure value as people read it: ratios as percentages, days and counts without decimals. -#}
{% macro format_measure_value(value, unit) %}
    case
        when {{ value }} is null then 'n/a'
        when {{ unit }} in ('ratio', 'change') then cast(cast(round(abs({{ value }}) * 100, 0) as integer) as {{ dbt.type_string() }}) || '%'
        when {{ unit }} in ('days', 'features') then cast(cast(round({{ value }}, 0) as integer) as {{ dbt.type_string() }})
        else cast(round({{ value }}, 1) as {{ dbt.type_string() }})
    end
{%- endmacro %}
