{#- Scoring works on one row per account-day with a group of columns per measure (`<measure>__points`,
    `<measure>__weight`, ...): an account-day's coverage, total, effective weights, rounding remainder,
    caps and top driver are then arithmetic across its columns instead of sorting and grouping one row
    per account, day and measure, which is twenty times the rows. -#}

{#- Every measure the models compute, in name order (the order ties are broken in). -#}
{% macro scored_measures() %}
    {%- set names = [] -%}
    {%- for measures in measure_families().values() -%}{%- do names.extend(measures) -%}{%- endfor -%}
    {{ return(names | sort) }}
{% endmacro %}

{#- The sum of `expression` over all measures, `{m}` standing for the measure name; a measure whose
    expression is null adds nothing. -#}
{% macro sum_over_measures(expression, measures) %}
    {%- if not measures -%}0{%- else -%}
    ({% for m in measures %}coalesce({{ expression | replace('{m}', m) }}, 0){% if not loop.last %} + {% endif %}{% endfor %})
    {%- endif -%}
{% endmacro %}

{#- The largest value of `expression` over the measures (nulls ignored; null when all are null). -#}
{% macro greatest_over_measures(expression, measures) %}
    {%- if not measures -%}null{%- else -%}
    greatest({% for m in measures %}{{ expression | replace('{m}', m) }}{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif -%}
{% endmacro %}

{#- The first measure, in name order, whose `expression` equals `target`: with target the largest value,
    the measure that ranks first when sorting by the value descending, then by name. -#}
{% macro first_measure_where_equal(expression, target, measures) %}
    {%- if not measures -%}cast(null as {{ dbt.type_string() }}){%- else -%}
    case
        {%- for m in measures %}
        when {{ expression | replace('{m}', m) }} = {{ target }} then '{{ m }}'
        {%- endfor %}
    end
    {%- endif -%}
{% endmacro %}

{#- The value of `expression` for the measure named by `measure_column`. -#}
{% macro of_measure(expression, measure_column, measures) %}
    {%- if not measures -%}null{%- else -%}
    case {{ measure_column }}
        {%- for m in measures %}
        when '{{ m }}' then {{ expression | replace('{m}', m) }}
        {%- endfor %}
    end
    {%- endif -%}
{% endmacro %}
