{#- First day of a look-back window of `days` days that ends on (and includes) `end_date`. -#}
{% macro window_start(end_date, days) %}
    cast({{ dbt.dateadd('day', '(1 - ' ~ days ~ ')', end_date) }} as date)
{%- endmacro %}
