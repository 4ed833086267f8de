{#- A score as people read it: one decimal ("38.2"), the same text on every engine. Cut off, not rounded, as
    the run summary and the customer reports print it: 39.96 is red and must not read 40.0, the start of yellow. -#}
{% macro format_score(value) %}
    cast(cast(floor({{ value }} * 10) / 10 as decimal(10, 1)) as {{ dbt.type_string() }})
{%- endmacro %}
