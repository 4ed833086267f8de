-- Payment measures per account and day over the invoices that fell due in the window before it, judged
-- with what was known that day: an invoice paid later still counts as unpaid. Void invoices never count.
-- An invoice due on day U is in the windows of days U + 1 to U + window - 1; it is unpaid on those of
-- them before its payment day. Counts and amounts are running totals over those days (macro
-- running_totals); the oldest overdue invoice needs the invoices themselves, joined to their unpaid days.
with days as (
    select account_id, score_date, arr_amount from {{ ref('int_account_days_assigned') }}
),

measures as (
    select measure, window_days
    from {{ ref('measures') }}
    where measure in {{ family_measure_list('payment') }}
),

windows as (
    select distinct window_days from measures
),

invoices as (
    select
        invoices.*,
        windows.window_days,
        cast({{ dbt.dateadd('day', 1, 'invoices.due_date') }} as date) as first_judged_date,
        cast({{ dbt.dateadd('day', '(windows.window_days - 1)', 'invoices.due_date') }} as date) as last_judged_date,
        -- The last day the invoice is still unpaid within its window.
        case
            when invoices.paid_date is null
                or invoices.paid_date > cast({{ dbt.dateadd('day', '(windows.window_days - 1)', 'invoices.due_date') }} as date)
                then cast({{ dbt.dateadd('day', '(windows.window_days - 1)', 'invoices.due_date') }} as date)
            else cast({{ dbt.dateadd('day', -1, 'invoices.paid_date') }} as date)
        end as last_unpaid_date
    from {{ ref('stg_billing__invoices') }} as invoices
    cross join windows
    where not invoices.is_void
),

changes as (
    {{ range_changes(
        'invoices',
        'first_judged_date',
        'last_judged_date',
        {
            'invoices_due': '1',
            'invoices_paid_on_time': 'case when paid_date <= due_date then 1 else 0 end',
            'outstanding_amount': 'cast(0 as decimal(18, 2))',
        },
    ) }}
    union all
    {{ range_changes(
        'invoices',
        'first_judged_date',
        'last_unpaid_date',
        {'invoices_due': '0', 'invoices_paid_on_time': '0', 'outstanding_amount': 'invoice_amount'},
    ) }}
),

grid as (
    select days.account_id, windows.window_days, days.score_date
    from days
    cross join windows
),

totals as (
    {{ running_totals('grid', 'changes', ['invoices_due', 'invoices_paid_on_time', 'outstanding_amount']) }}
),

overdue as (
    select
        days.account_id,
        days.score_date,
        invoices.window_days,
        max({{ dbt.datediff('invoices.due_date', 'days.score_date', 'day') }}) as max_days_overdue
    from days
    inner join invoices
        on invoices.account_id = days.account_id
        and days.score_date >= invoices.first_judged_date
        and days.score_date <= invoices.last_unpaid_date
    group by days.account_id, days.score_date, invoices.window_days
),

computed as (
    select
        days.account_id,
        days.score_date,
        measures.measure,
        case
            when totals.invoices_due = 0 then null
            when measures.measure = 'on_time_payment_share'
                then cast(totals.invoices_paid_on_time as double) / totals.invoices_due
            when measures.measure = 'max_days_overdue' then cast(coalesce(overdue.max_days_overdue, 0) as double)
            when measures.measure = 'outstanding_amount_ratio' and days.arr_amount > 0
                then cast(totals.outstanding_amount as double) / cast(days.arr_amount as double)
        end as measure_value
    from days
    cross join measures
    inner join totals
        on days.account_id = totals.account_id
        and days.score_date = totals.score_date
        and measures.window_days = totals.window_days
    left join overdue
        on days.account_id = overdue.account_id
        and days.score_date = overdue.score_date
        and measures.window_days = overdue.window_days
)

select * from computed
