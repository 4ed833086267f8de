-- One row per landed file as the last load left it: rows read, loaded and set aside.
with source as (
    select * from {{ source('ingestion', 'landed_files') }}
),

renamed as (
    select
        source || '|' || landed_file as landed_file_id,
        source as source_name,
        landed_file,
        content_hash,
        size_bytes,
        rows_read,
        rows_read - rows_rejected - rows_unknown_account as rows_loaded,
        rows_rejected + rows_unknown_account as rows_rejected,
        rows_rejected - coalesce(rows_erased, 0) as rows_breaking_the_contract,
        rows_unknown_account,
        coalesce(rows_erased, 0) as rows_erased,
        first_event_date,
        last_event_date,
        loaded_at
    from source
)

select * from renamed
