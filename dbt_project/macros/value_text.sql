{#- A configured value inside a test's `problem` sentence, as it reads in the seed: whole numbers without the
    trailing zeros of their decimal type (40, not 40.000000), an empty cell as "(empty)". -#}
{% macro value_text(expression, is_number=true) %}
    {%- if is_number -%}
    coalesce(
        case
            when {{ expression }} = floor({{ expression }})
                then cast(cast({{ expression }} as bigint) as {{ dbt.type_string() }})
            else cast(cast({{ expression }} as double) as {{ dbt.type_string() }})
        end,
        '(empty)'
    )
    {%- else -%}
    coalesce(cast({{ expression }} as {{ dbt.type_string() }}), '(empty)')
    {%- endif -%}
{% endmacro %}
