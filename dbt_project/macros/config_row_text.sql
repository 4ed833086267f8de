{#- All columns of a configuration row as one '|'-separated text, for hashing and for the audit trail. -#}
{% macro config_row_text(relation) %}
    {%- set columns = adapter.get_columns_in_relation(relation) if execute else [] -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ adapter.quote(column.name) ~ " as " ~ dbt.type_string() ~ "), '')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.concat(parts) if parts else "''" }}
{%- endmacro %}
