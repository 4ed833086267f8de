{#- Values joined in a guaranteed order, for hashes that must not depend on how rows happen to arrive.
    dbt.listagg on Spark ignores its order_by (with a warning), so Spark gets the standard spelling. -#}
{% macro ordered_listagg(expression, delimiter_expression, order_by_clause) %}
    {{ return(adapter.dispatch('ordered_listagg')(expression, delimiter_expression, order_by_clause)) }}
{% endmacro %}

{% macro default__ordered_listagg(expression, delimiter_expression, order_by_clause) %}
    {{ dbt.listagg(expression, delimiter_expression, order_by_clause) }}
{% endmacro %}

{% macro spark__ordered_listagg(expression, delimiter_expression, order_by_clause) %}
    listagg({{ expression }}, {{ delimiter_expression }}) within group ({{ order_by_clause }})
{% endmacro %}
