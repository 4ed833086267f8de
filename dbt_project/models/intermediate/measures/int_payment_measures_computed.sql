-- Payment measures per account on its scored day, judged with what was known that day: an invoice paid
-- after the scored day still counts as unpaid on it. Void invoices never count.
with accounts as (
    select account_id, arr_amount, scored_date from {{ ref('int_accounts_enriched') }}
),

measures as (
    select measure, window_days
    from {{ ref('scorecard_measures') }}
    where measure in ('on_time_payment_share', 'max_days_overdue', 'overdue_amount_ratio')
),

invoices as (
    select * from {{ ref('stg_billing__invoices') }} where not is_void
),

judged as (
    select
        accounts.account_id,
        measures.measure,
        accounts.arr_amount,
        count(invoices.invoice_id) as invoices_due,
        sum(case when invoices.paid_date <= invoices.due_date then 1 else 0 end) as invoices_paid_on_time,
        sum(case when invoices.paid_date is null or invoices.paid_date > accounts.scored_date then 1 else 0 end)
            as invoices_unpaid,
        max(case
            when invoices.paid_date is null or invoices.paid_date > accounts.scored_date
                then {{ dbt.datediff('invoices.due_date', 'accounts.scored_date', 'day') }}
        end) as max_days_overdue,
        sum(case
            when invoices.paid_date is null or invoices.paid_date > accounts.scored_date
                then invoices.invoice_amount
            else 0
        end) as overdue_amount
    from accounts
    cross join measures
    left join invoices
        on invoices.account_id = accounts.account_id
        and invoices.due_date < accounts.scored_date
        and invoices.due_date >= {{ window_start('accounts.scored_date', 'measures.window_days') }}
    group by accounts.account_id, measures.measure, accounts.arr_amount
),

computed as (
    select
        account_id,
        measure,
        case
            when invoices_due = 0 then null
            when measure = 'on_time_payment_share' then cast(invoices_paid_on_time as double) / invoices_due
            when measure = 'max_days_overdue' then cast(coalesce(max_days_overdue, 0) as double)
            when measure = 'overdue_amount_ratio' and arr_amount > 0
                then cast(overdue_amount as double) / cast(arr_amount as double)
        end as measure_value
    from judged
)

select * from computed
