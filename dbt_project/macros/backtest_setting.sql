{#- One value from seeds/backtest_settings.csv, as a scalar subquery cast to `data_type`. Kept apart from
    scoring_settings: changing how the score is evaluated must not change the configuration version of the
    scores themselves. -#}
{% macro backtest_setting(name, data_type=none) %}
    (select cast(value as {{ data_type or dbt.type_double() }}) from {{ ref('backtest_settings') }} where setting = '{{ name }}')
{%- endmacro %}
