-- Guards the load report: the rows each file loaded in the latest load are exactly the rows of that file in its source's raw view.
{{ config(meta={'dagster': {'ref': {'name': 'landed_file_loads'}}}) }}

with latest as (
    select source_name, landed_file, rows_loaded
    from {{ ref('landed_file_loads') }}
    where loaded_at = (select max(loaded_at) from {{ ref('landed_file_loads') }})
),

in_views as (
    {%- for node in graph.sources.values() | sort(attribute='name') if node.source_name not in ['ingestion', 'backtest'] %}
    select '{{ node.name }}' as source_name, _source_file as landed_file, count(*) as view_rows
    from {{ source(node.source_name, node.name) }}
    where _source_file in (select landed_file from latest where source_name = '{{ node.name }}')
    group by _source_file
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

validation_errors as (
    select latest.source_name, latest.landed_file, latest.rows_loaded, coalesce(in_views.view_rows, 0) as view_rows
    from latest
    left join in_views
        on latest.source_name = in_views.source_name
        and latest.landed_file = in_views.landed_file
    where latest.rows_loaded <> coalesce(in_views.view_rows, 0)
)

select * from validation_errors
