{#- One value from seeds/alert_settings.csv, as a scalar subquery cast to `data_type`. Kept apart from
    scoring_settings: how alerts are raised and delivered must not change the configuration version of the
    scores. -#}
{% macro alert_setting(name, data_type=none) %}
    (select cast(value as {{ data_type or dbt.type_string() }}) from {{ ref('alert_settings') }} where setting = '{{ name }}')
{%- endmacro %}

{#- A score as people read it: one decimal ("38.2"), the same text on every engine. -#}
{% macro format_score(value) %}
    cast(cast(round({{ value }}, 1) as decimal(10, 1)) as {{ dbt.type_string() }})
{%- endmacro %}
