{#- Rows where the column lies outside [min_value, max_value] (bounds optional; nulls pass). The whole row is
    kept, so that a failure can name the row (orchestration/defs/dbt/failures.py). -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

with validation_errors as (
    select {{ column_name }} as out_of_range_value, *
    from {{ model }}
    where {{ column_name }} is not null
      and (
        1 = 0
        {%- if min_value is not none %}
        or {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
        {%- endif %}
      )
)

select * from validation_errors

{% endtest %}
