with source as (
    {{ latest_landed_rows(source('manual', 'csm_ratings'), ['account_id', 'rated_on']) }}
),

renamed as (
    select
        account_id || '|' || cast(rated_on as {{ dbt.type_string() }}) as csm_rating_id,
        account_id,
        rated_by as csm_name,
        note as rating_note,
        cast(rating as integer) as csm_rating,
        cast(rated_on as date) as rated_date,
        cast(expires_on as date) as expires_date
    from source
)

select * from renamed
