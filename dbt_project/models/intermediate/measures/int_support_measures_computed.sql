-- Support measures per account and day. Ticket volume is 0 (not missing) once the helpdesk feed is live;
-- shares, times and ratings need tickets. A ticket counts as resolved only once it was resolved.
with days as (
    select account_id, score_date, licensed_seats from {{ ref('int_account_days_assigned') }}
),

measures as (
    select measure, window_days
    from {{ ref('measures') }}
    where measure in ('tickets_per_seat', 'urgent_ticket_share', 'median_resolution_hours', 'ticket_csat')
),

windows as (
    select distinct window_days from measures
),

tickets as (
    select * from {{ ref('stg_helpdesk__support_tickets') }}
),

feed as (
    select min(opened_date) as first_ticket_date from tickets
),

opened as (
    select
        days.account_id,
        days.score_date,
        windows.window_days,
        count(tickets.ticket_id) as tickets_opened,
        sum(case when tickets.is_high_priority then 1 else 0 end) as high_priority_tickets
    from days
    cross join windows
    left join tickets
        on {{ in_window('tickets', 'opened_date') }}
    group by days.account_id, days.score_date, windows.window_days
),

resolved as (
    select
        days.account_id,
        days.score_date,
        windows.window_days,
        -- Seconds, not minutes: engines count minute differences differently (boundaries vs rounding up).
        {{ median(dbt.datediff('tickets.opened_at', 'tickets.resolved_at', 'second') ~ ' / 3600.0') }}
            as median_resolution_hours,
        -- Integer sums divided once: exact, whatever order rows are added in.
        sum(tickets.csat_rating) as csat_total,
        count(tickets.csat_rating) as csat_ratings
    from days
    cross join windows
    left join tickets
        on {{ in_window('tickets', 'resolved_date') }}
    group by days.account_id, days.score_date, windows.window_days
),

computed as (
    select
        days.account_id,
        days.score_date,
        measures.measure,
        case
            when measures.measure = 'tickets_per_seat'
                then case
                    when feed.first_ticket_date <= days.score_date
                        then cast(opened.tickets_opened as double) / nullif(days.licensed_seats, 0)
                end
            when measures.measure = 'urgent_ticket_share' and opened.tickets_opened > 0
                then cast(opened.high_priority_tickets as double) / opened.tickets_opened
            when measures.measure = 'median_resolution_hours'
                then cast(resolved.median_resolution_hours as double)
            when measures.measure = 'ticket_csat' and resolved.csat_ratings > 0
                then cast(resolved.csat_total as double) / resolved.csat_ratings
        end as measure_value
    from days
    cross join measures
    cross join feed
    inner join opened
        on days.account_id = opened.account_id
        and days.score_date = opened.score_date
        and measures.window_days = opened.window_days
    inner join resolved
        on days.account_id = resolved.account_id
        and days.score_date = resolved.score_date
        and measures.window_days = resolved.window_days
)

select * from computed
