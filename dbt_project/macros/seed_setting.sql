{#- One value from a settings seed (columns setting, value), as a scalar subquery cast to `data_type`. Each area
    keeps its own settings seed so that tuning it does not touch the scores' configuration version. -#}
{% macro seed_setting(seed_name, name, data_type=none) %}
    (select cast(value as {{ data_type or 'double' }}) from {{ ref(seed_name) }} where setting = '{{ name }}')
{%- endmacro %}
