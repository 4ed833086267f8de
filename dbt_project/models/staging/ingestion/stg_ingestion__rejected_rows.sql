-- Every landed row set aside, one row per reason. Values of columns the contract marks as personal data
-- are withheld: these rows reach the serving file, and a mistyped e-mail address is still personal data.
{%- set personal_columns = [] %}
{%- for node in graph.sources.values() if node.source_name not in ['ingestion', 'backtest'] %}
    {%- for column in node.columns.values() if (column.config.meta or column.meta or {}).get('personal_data') %}
        {%- do personal_columns.append("('" ~ node.name ~ "', '" ~ column.name ~ "')") %}
    {%- endfor %}
{%- endfor %}

with source as (
    select * from {{ source('ingestion', 'rejected_rows') }}
),

renamed as (
    select
        source || '|' || landed_file || '|' || cast(source_row as {{ dbt.type_string() }}) || '|' || column_name
            || '|' || rule as rejection_id,
        source as source_name,
        landed_file,
        location,
        column_name,
        case
            when (source, column_name) in ({{ personal_columns | join(', ') if personal_columns else "('', '')" }})
                and landed_value is not null
                then '(personal data, withheld)'
            else landed_value
        end as landed_value,
        reason,
        rule,
        source_row,
        event_date
    from source
)

select * from renamed
