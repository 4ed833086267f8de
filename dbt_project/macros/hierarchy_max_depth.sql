{#- The levels of an account hierarchy that roll up (seeds/hierarchy_settings.csv `max_depth`), read when the
    calling model compiles, because it sets how many self-joins the model makes. While dbt only parses, 1. -#}
{% macro hierarchy_max_depth() %}
    {%- if not execute -%}{{ return(1) }}{%- endif -%}
    {%- set rows = run_query(
        "select value from " ~ ref('hierarchy_settings') ~ " where setting = 'max_depth'"
    ).rows -%}
    {{ return(rows[0][0] | int) }}
{% endmacro %}
