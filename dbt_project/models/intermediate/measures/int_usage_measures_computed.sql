-- Usage measures per account on its scored day. With a live usage feed, an account without events in
-- the window really did not use the product: its counts are 0, not missing.
with accounts as (
    select account_id, licensed_seats, scored_date from {{ ref('int_accounts_enriched') }}
),

measures as (
    select measure, window_days
    from {{ ref('scorecard_measures') }}
    where measure in ('active_user_ratio', 'active_days', 'feature_breadth', 'events_per_seat')
),

events as (
    select account_id, user_id, feature_name, occurred_date from {{ ref('stg_product__usage_events') }}
),

feed as (
    select min(occurred_date) as first_event_date from events
),

windowed as (
    select
        accounts.account_id,
        measures.measure,
        accounts.licensed_seats,
        feed.first_event_date <= accounts.scored_date as has_feed,
        count(events.account_id) as event_count,
        count(distinct events.user_id) as active_users,
        count(distinct events.occurred_date) as active_days,
        count(distinct events.feature_name) as features_used
    from accounts
    cross join measures
    cross join feed
    left join events
        on events.account_id = accounts.account_id
        and events.occurred_date <= accounts.scored_date
        and events.occurred_date >= {{ window_start('accounts.scored_date', 'measures.window_days') }}
    group by accounts.account_id, measures.measure, accounts.licensed_seats, feed.first_event_date,
        accounts.scored_date
),

computed as (
    select
        account_id,
        measure,
        case
            when not coalesce(has_feed, false) then null
            when measure = 'active_user_ratio' then cast(active_users as double) / licensed_seats
            when measure = 'active_days' then cast(active_days as double)
            when measure = 'feature_breadth' then cast(features_used as double)
            when measure = 'events_per_seat' then cast(event_count as double) / licensed_seats
        end as measure_value
    from windowed
)

select * from computed
