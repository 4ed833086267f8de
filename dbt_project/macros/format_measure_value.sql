{#- A measure value as people read it: ratios as percentages, days and counts without decimals. Other values
    go through a decimal before they become text: Spark writes a double of 1e7 or more in scientific notation
    (1.23456789E7) where DuckDB writes 12345678.9, and the driver texts must read the same on both. -#}
{% macro format_measure_value(value, unit) %}
    case
        when {{ value }} is null then 'n/a'
        when {{ unit }} in ('ratio', 'change') then cast(cast(round(abs({{ value }}) * 100, 0) as integer) as {{ dbt.type_string() }}) || '%'
        when {{ unit }} in ('days', 'features') then cast(cast(round({{ value }}, 0) as integer) as {{ dbt.type_string() }})
        else cast(cast(round({{ value }}, 1) as decimal(38, 1)) as {{ dbt.type_string() }})
    end
{%- endmacro %}
