{#- Files whose count of rows set aside differs from the rows listed for them in rejected_rows: the
    manifest and the rejected-row files must tell the same story. -#}
{% test rejected_rows_are_listed(model, column_name) %}

with listed as (
    select source_name, landed_file, count(distinct source_row) as listed_rows
    from {{ ref('rejected_rows') }}
    group by source_name, landed_file
),

validation_errors as (
    select
        model.source_name,
        model.landed_file,
        model.{{ column_name }},
        coalesce(listed.listed_rows, 0) as listed_rows,
        'file ' || model.landed_file || ' of ' || model.source_name || ': {{ column_name }} says '
            || cast(model.{{ column_name }} as {{ dbt.type_string() }}) || ', but marts.rejected_rows lists '
            || cast(coalesce(listed.listed_rows, 0) as {{ dbt.type_string() }}) as problem
    from {{ model }} as model
    left join listed
        on model.source_name = listed.source_name
        and model.landed_file = listed.landed_file
    where model.{{ column_name }} <> coalesce(listed.listed_rows, 0)
)

select * from validation_errors

{% endtest %}
