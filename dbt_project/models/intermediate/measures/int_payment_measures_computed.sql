-- Payment measures per account and day over the invoices that fell due in the window before it, judged
-- with what was known that day: an invoice paid later still counts as unpaid. Void invoices never count.
with days as (
    select account_id, score_date, arr_amount from {{ ref('int_account_days_assigned') }}
),

measures as (
    select measure, window_days
    from {{ ref('measures') }}
    where measure in ('on_time_payment_share', 'max_days_overdue', 'outstanding_amount_ratio')
),

windows as (
    select distinct window_days from measures
),

invoices as (
    select * from {{ ref('stg_billing__invoices') }} where not is_void
),

judged as (
    select
        days.account_id,
        days.score_date,
        windows.window_days,
        count(invoices.invoice_id) as invoices_due,
        sum(case when invoices.paid_date <= invoices.due_date then 1 else 0 end) as invoices_paid_on_time,
        max(case
            when invoices.paid_date is null or invoices.paid_date > days.score_date
                then {{ dbt.datediff('invoices.due_date', 'days.score_date', 'day') }}
        end) as max_days_overdue,
        sum(case
            when invoices.paid_date is null or invoices.paid_date > days.score_date then invoices.invoice_amount
            else 0
        end) as outstanding_amount
    from days
    cross join windows
    left join invoices
        on invoices.account_id = days.account_id
        and invoices.due_date < days.score_date
        and invoices.due_date >= {{ window_start('days.score_date', 'windows.window_days') }}
    group by days.account_id, days.score_date, windows.window_days
),

computed as (
    select
        days.account_id,
        days.score_date,
        measures.measure,
        case
            when judged.invoices_due = 0 then null
            when measures.measure = 'on_time_payment_share'
                then cast(judged.invoices_paid_on_time as double) / judged.invoices_due
            when measures.measure = 'max_days_overdue' then cast(coalesce(judged.max_days_overdue, 0) as double)
            when measures.measure = 'outstanding_amount_ratio' and days.arr_amount > 0
                then cast(judged.outstanding_amount as double) / cast(days.arr_amount as double)
        end as measure_value
    from days
    cross join measures
    inner join judged
        on days.account_id = judged.account_id
        and days.score_date = judged.score_date
        and measures.window_days = judged.window_days
)

select * from computed
