-- Support measures per account on its scored day. Ticket volume is 0 (not missing) when the helpdesk
-- feed is live and the account raised no ticket; shares, times and ratings need tickets to exist.
with accounts as (
    select account_id, licensed_seats, scored_date from {{ ref('int_accounts_enriched') }}
),

measures as (
    select measure, window_days
    from {{ ref('scorecard_measures') }}
    where measure in ('tickets_per_seat', 'urgent_ticket_share', 'median_resolution_hours', 'ticket_csat')
),

tickets as (
    select * from {{ ref('stg_helpdesk__support_tickets') }}
),

feed as (
    select min(opened_date) as first_ticket_date from tickets
),

opened_in_window as (
    select
        accounts.account_id,
        measures.measure,
        accounts.licensed_seats,
        feed.first_ticket_date <= accounts.scored_date as has_feed,
        count(tickets.ticket_id) as tickets_opened,
        sum(case when tickets.is_high_priority then 1 else 0 end) as high_priority_tickets
    from accounts
    cross join measures
    cross join feed
    left join tickets
        on tickets.account_id = accounts.account_id
        and tickets.opened_date <= accounts.scored_date
        and tickets.opened_date >= {{ window_start('accounts.scored_date', 'measures.window_days') }}
    where measures.measure in ('tickets_per_seat', 'urgent_ticket_share')
    group by accounts.account_id, measures.measure, accounts.licensed_seats, feed.first_ticket_date,
        accounts.scored_date
),

-- A ticket counts as resolved only if it was resolved by the scored day (no look-ahead).
resolved_in_window as (
    select
        accounts.account_id,
        measures.measure,
        {{ median(dbt.datediff('tickets.opened_at', 'tickets.resolved_at', 'minute') ~ ' / 60.0') }}
            as median_resolution_hours,
        -- Integer sums divided once: exact and independent of the order rows are added in.
        sum(tickets.csat_rating) as csat_total,
        count(tickets.csat_rating) as csat_ratings
    from accounts
    cross join measures
    left join tickets
        on tickets.account_id = accounts.account_id
        and tickets.resolved_date <= accounts.scored_date
        and tickets.resolved_date >= {{ window_start('accounts.scored_date', 'measures.window_days') }}
    where measures.measure in ('median_resolution_hours', 'ticket_csat')
    group by accounts.account_id, measures.measure
),

computed as (
    select
        account_id,
        measure,
        case
            when not coalesce(has_feed, false) then null
            when measure = 'tickets_per_seat' then cast(tickets_opened as double) / licensed_seats
            when measure = 'urgent_ticket_share' and tickets_opened > 0
                then cast(high_priority_tickets as double) / tickets_opened
        end as measure_value
    from opened_in_window

    union all

    select
        account_id,
        measure,
        case
            when measure = 'median_resolution_hours' then cast(median_resolution_hours as double)
            when measure = 'ticket_csat' and csat_ratings > 0 then cast(csat_total as double) / csat_ratings
        end as measure_value
    from resolved_in_window
)

select * from computed
