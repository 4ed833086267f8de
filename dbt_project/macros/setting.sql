{#- One value from seeds/scoring_settings.csv, as a scalar subquery cast to `data_type`; empty is null. -#}
{% macro setting(name, data_type='varchar') %}
    (select cast(nullif(trim(value), '') as {{ data_type }}) from {{ ref('scoring_settings') }} where setting = '{{ name }}')
{%- endmacro %}
