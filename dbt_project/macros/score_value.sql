{#- Scores are fixed-point with six decimals: float sums depend on the order an engine adds them in, and
    a score must come out identical on every rebuild and add up exactly from its contributions. -#}
{% macro score_value(expression) %}
    cast(round({{ expression }}, 6) as decimal(10, 6))
{%- endmacro %}
