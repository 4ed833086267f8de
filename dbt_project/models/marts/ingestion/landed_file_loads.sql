-- What every landed file contributed: rows read, loaded and set aside, per source and file, with the
-- most frequent reasons. Rows read always equal rows loaded plus rows set aside.
with files as (
    select * from {{ ref('stg_ingestion__landed_files') }}
),

reasons as (
    select
        source_name,
        landed_file,
        rule,
        column_name,
        count(distinct source_row) as rejected_rows,
        row_number() over (
            partition by source_name, landed_file order by count(distinct source_row) desc, rule, column_name
        ) as reason_rank
    from {{ ref('stg_ingestion__rejected_rows') }}
    group by source_name, landed_file, rule, column_name
),

top_reasons as (
    select
        source_name,
        landed_file,
        {{ ordered_listagg(
            "column_name || ': ' || rule || ' (' || cast(rejected_rows as " ~ dbt.type_string() ~ ") || ')'",
            "', '",
            "order by reason_rank"
        ) }} as main_reasons
    from reasons
    where reason_rank <= 3
    group by source_name, landed_file
)

select
    files.landed_file_id,
    files.source_name,
    files.landed_file,
    top_reasons.main_reasons,
    files.rows_read,
    files.rows_loaded,
    files.rows_rejected,
    cast(files.rows_rejected as double) / nullif(files.rows_read, 0) as rejected_share,
    files.first_event_date,
    files.last_event_date,
    files.loaded_at
from files
left join top_reasons
    on files.source_name = top_reasons.source_name
    and files.landed_file = top_reasons.landed_file
