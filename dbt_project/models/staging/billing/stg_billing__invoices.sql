with source as (
    {{ latest_landed_rows(source('billing', 'invoices'), ['invoice_id']) }}
),

renamed as (
    select
        invoice_id,
        account_id,
        status as invoice_status,
        currency as currency_code,
        cast(amount as decimal(18, 2)) as invoice_amount,
        status = 'void' as is_void,
        cast(issued_date as date) as issued_date,
        cast(due_date as date) as due_date,
        cast(paid_date as date) as paid_date
    from source
)

select * from renamed
