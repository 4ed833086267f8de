{#- A score as people read it: one decimal ("38.2"), the same text on every engine. -#}
{% macro format_score(value) %}
    cast(cast(round({{ value }}, 1) as decimal(10, 1)) as {{ dbt.type_string() }})
{%- endmacro %}
