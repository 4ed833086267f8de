{#- One value from seeds/scoring_settings.csv, as a scalar subquery cast to `data_type`; empty is null. -#}
{% macro setting(name, data_type=none) %}
    (select cast(nullif(trim(value), '') as {{ data_type or dbt.type_string() }}) from {{ ref('scoring_settings') }} where setting = '{{ name }}')
{%- endmacro %}
