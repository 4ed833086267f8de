{#- The ways marts.portfolio_daily cuts the portfolio, as (dimension, column) pairs: the whole portfolio as
    one value 'all', then each segment, customer-success manager and scorecard. -#}
{% macro portfolio_dimensions() %}
    {{ return([
        ('portfolio', "'all'"),
        ('segment', 'segment'),
        ('csm_owner', 'csm_owner'),
        ('scorecard', 'scorecard'),
    ]) }}
{% endmacro %}

{#- Every row of `relation` once per dimension, with columns `dimension` and `dimension_value` in front; a row
    whose value of a dimension is unknown (null) is left out of that dimension only. -#}
{% macro by_portfolio_dimension(relation) %}
    {%- for dimension, column in portfolio_dimensions() %}
    select '{{ dimension }}' as dimension, {{ column }} as dimension_value, {{ relation }}.*
    from {{ relation }}
    where {{ column }} is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{% endmacro %}
