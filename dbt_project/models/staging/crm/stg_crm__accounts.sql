with source as (
    {{ latest_landed_rows(source('crm', 'accounts'), ['account_id']) }}
),

renamed as (
    select
        account_id,
        parent_account_id,
        account_name,
        segment,
        plan as plan_name,
        country as country_code,
        currency as currency_code,
        csm_owner,
        lifecycle_stage as crm_lifecycle_stage,
        _contact_email_pseudonym as contact_email_pseudonym,
        cast(arr as decimal(18, 2)) as arr_amount,
        cast(seats as integer) as licensed_seats,
        cast(contract_start_date as date) as contract_start_date,
        cast(renewal_date as date) as renewal_date
    from source
)

select * from renamed
