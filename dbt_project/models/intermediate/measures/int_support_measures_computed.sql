-- Support measures per account and day. Ticket volume is 0 (not missing) once the helpdesk feed is live;
-- shares, times and ratings need tickets. A ticket counts as resolved only once it was resolved.
-- Counts and sums are running totals of each ticket's days in a window (macro running_totals); the
-- median needs the tickets themselves, so each resolved ticket is joined to the days whose window holds it.
with days as (
    select account_id, score_date, licensed_seats from {{ ref('int_account_days_assigned') }}
),

measures as (
    select measure, window_days
    from {{ ref('measures') }}
    where measure in {{ family_measure_list('support') }}
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

windowed_tickets as (
    select tickets.*, windows.window_days
    from tickets
    cross join windows
),

changes as (
    -- An opened ticket counts in the windows ending on its opening day and the window - 1 days after.
    {{ range_changes(
        'windowed_tickets',
        'opened_date',
        "cast(" ~ dbt.dateadd('day', '(window_days - 1)', 'opened_date') ~ " as date)",
        {
            'tickets_opened': '1',
            'high_priority_tickets': 'case when is_high_priority then 1 else 0 end',
            'csat_total': '0',
            'csat_ratings': '0',
        },
    ) }}
    union all
    {{ range_changes(
        'windowed_tickets',
        'resolved_date',
        "cast(" ~ dbt.dateadd('day', '(window_days - 1)', 'resolved_date') ~ " as date)",
        {
            'tickets_opened': '0',
            'high_priority_tickets': '0',
            'csat_total': 'coalesce(csat_rating, 0)',
            'csat_ratings': 'case when csat_rating is not null then 1 else 0 end',
        },
        where='resolved_date is not null',
    ) }}
),

grid as (
    select days.account_id, windows.window_days, days.score_date
    from days
    cross join windows
),

totals as (
    {{ running_totals('grid', 'changes', ['tickets_opened', 'high_priority_tickets', 'csat_total', 'csat_ratings']) }}
),

resolution_windows as (
    select distinct window_days from measures where measure = 'median_resolution_hours'
),

resolution_times as (
    select
        days.account_id,
        days.score_date,
        resolution_windows.window_days,
        -- Seconds, not minutes: engines count minute differences differently (boundaries vs rounding up).
        -- Divided as a double: by the literal 3600.0, Spark divides decimals and rounds to six places.
        {{ median('cast(' ~ dbt.datediff('tickets.opened_at', 'tickets.resolved_at', 'second') ~ ' as double) / 3600') }}
            as median_resolution_hours
    from days
    cross join resolution_windows
    inner join tickets
        on {{ in_window('tickets', 'resolved_date', 'resolution_windows.window_days') }}
    group by days.account_id, days.score_date, resolution_windows.window_days
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
                        then cast(totals.tickets_opened as double) / nullif(days.licensed_seats, 0)
                end
            when measures.measure = 'urgent_ticket_share' and totals.tickets_opened > 0
                then cast(totals.high_priority_tickets as double) / totals.tickets_opened
            when measures.measure = 'median_resolution_hours'
                then cast(resolution_times.median_resolution_hours as double)
            when measures.measure = 'ticket_csat' and totals.csat_ratings > 0
                then cast(totals.csat_total as double) / totals.csat_ratings
        end as measure_value
    from days
    cross join measures
    cross join feed
    inner join totals
        on days.account_id = totals.account_id
        and days.score_date = totals.score_date
        and measures.window_days = totals.window_days
    left join resolution_times
        on days.account_id = resolution_times.account_id
        and days.score_date = resolution_times.score_date
        and measures.window_days = resolution_times.window_days
)

select * from computed
