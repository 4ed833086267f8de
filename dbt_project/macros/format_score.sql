{#- A score as people read it: one decimal, cut off rather than rounded, as the run summary and the customer
    reports print it: 39.96 is red and must not read 40.0, the start of yellow. cut_score keeps it a number (for
    exports), format_score makes it text ("38.2"), the same on every engine. -#}
{% macro cut_score(value) %}
    cast(floor(({{ value }}) * 10) / 10 as decimal(10, 1))
{%- endmacro %}

{% macro format_score(value) %}
    cast({{ cut_score(value) }} as {{ dbt.type_string() }})
{%- endmacro %}
