-- Usage measures per account and day, each over its window ending on that day. Once an account has used
-- the product, or its onboarding period is over, an account without events in the window really did
-- not use the product: its counts are 0, not missing. A new account that has not started yet has no
-- usage data. The trend compares active users with the window before.
--
-- Distinct counts are computed without joining every day to every activity in its window: a user (or
-- feature) active on day A counts in the windows ending on A to A + window - 1, so consecutive activity
-- merges into runs, and each run adds one on its first day and takes it back the day its last window
-- ends (gaps and islands). Day totals are then running sums of those changes (macro running_totals).
with days as (
    select
        account_id,
        score_date,
        licensed_seats,
        days_since_contract_start >= {{ setting('onboarding_days', 'integer') }} as is_past_onboarding
    from {{ ref('int_account_days_assigned') }}
),

measures as (
    select measure, window_days
    from {{ ref('measures') }}
    where measure in {{ family_measure_list('usage') }}
),

windows as (
    select distinct window_days from measures
),

-- Activity before this day cannot reach any window this build needs: the earliest is the window before
-- the first scored day (for the trend), and a run reaching into it starts at most one window earlier.
bounds as (
    select
        cast({{ dbt.dateadd('day', '(-2 * (select max(window_days) from windows))', 'min(score_date)') }} as date)
            as first_needed_date,
        max(score_date) as last_score_date
    from days
),

user_days as (
    select user_days.*
    from {{ ref('int_usage_user_days_aggregated') }} as user_days
    cross join bounds
    where user_days.activity_date >= bounds.first_needed_date
      and user_days.activity_date <= bounds.last_score_date
),

feature_days as (
    select feature_days.*
    from {{ ref('int_usage_feature_days_aggregated') }} as feature_days
    cross join bounds
    where feature_days.activity_date >= bounds.first_needed_date
      and feature_days.activity_date <= bounds.last_score_date
),

first_activity as (
    select account_id, min(activity_date) as first_activity_date
    from {{ ref('int_usage_user_days_aggregated') }}
    group by account_id
),

user_runs as (
    select
        user_days.account_id,
        windows.window_days,
        user_days.activity_date,
        lag(user_days.activity_date) over (
            partition by user_days.account_id, user_days.user_id, windows.window_days
            order by user_days.activity_date
        ) as previous_activity_date,
        lead(user_days.activity_date) over (
            partition by user_days.account_id, user_days.user_id, windows.window_days
            order by user_days.activity_date
        ) as next_activity_date
    from user_days
    cross join windows
),

feature_runs as (
    select
        feature_days.account_id,
        windows.window_days,
        feature_days.activity_date,
        lag(feature_days.activity_date) over (
            partition by feature_days.account_id, feature_days.feature_name, windows.window_days
            order by feature_days.activity_date
        ) as previous_activity_date,
        lead(feature_days.activity_date) over (
            partition by feature_days.account_id, feature_days.feature_name, windows.window_days
            order by feature_days.activity_date
        ) as next_activity_date
    from feature_days
    cross join windows
),

account_activity as (
    select
        user_days.account_id,
        windows.window_days,
        user_days.activity_date,
        sum(user_days.event_count) as event_count
    from user_days
    cross join windows
    group by user_days.account_id, windows.window_days, user_days.activity_date
),

changes as (
    -- A run of activity starts: one more active user (feature) from this day on.
    select account_id, window_days, activity_date as change_date, 1 as active_users, 0 as features_used,
        0 as active_days, 0 as event_count
    from user_runs
    where previous_activity_date is null
       or {{ dbt.datediff('previous_activity_date', 'activity_date', 'day') }} >= window_days
    union all
    -- A run ends: its last window closes the day before this one.
    select account_id, window_days, cast({{ dbt.dateadd('day', 'window_days', 'activity_date') }} as date),
        -1, 0, 0, 0
    from user_runs
    where next_activity_date is null
       or {{ dbt.datediff('activity_date', 'next_activity_date', 'day') }} >= window_days
    union all
    select account_id, window_days, activity_date, 0, 1, 0, 0
    from feature_runs
    where previous_activity_date is null
       or {{ dbt.datediff('previous_activity_date', 'activity_date', 'day') }} >= window_days
    union all
    select account_id, window_days, cast({{ dbt.dateadd('day', 'window_days', 'activity_date') }} as date),
        0, -1, 0, 0
    from feature_runs
    where next_activity_date is null
       or {{ dbt.datediff('activity_date', 'next_activity_date', 'day') }} >= window_days
    union all
    -- Active days and events count in the windows ending on their day and the window - 1 days after.
    {{ range_changes(
        'account_activity',
        'activity_date',
        "cast(" ~ dbt.dateadd('day', '(window_days - 1)', 'activity_date') ~ " as date)",
        {'active_users': '0', 'features_used': '0', 'active_days': '1', 'event_count': 'event_count'},
    ) }}
),

-- The scored days and, for the trend, the day one window before each.
grid as (
    select days.account_id, windows.window_days, days.score_date
    from days
    cross join windows
    union
    select days.account_id, windows.window_days,
        cast({{ dbt.dateadd('day', '(-1 * windows.window_days)', 'days.score_date') }} as date)
    from days
    cross join windows
),

totals as (
    {{ running_totals('grid', 'changes', ['active_users', 'features_used', 'active_days', 'event_count']) }}
),

computed as (
    select
        days.account_id,
        days.score_date,
        measures.measure,
        case
            when not days.is_past_onboarding
                and (first_activity.first_activity_date is null or first_activity.first_activity_date > days.score_date)
                then null
            when measures.measure = 'active_user_ratio'
                then cast(current_window.active_users as double) / nullif(days.licensed_seats, 0)
            when measures.measure = 'active_days' then cast(current_window.active_days as double)
            when measures.measure = 'events_per_seat'
                then cast(current_window.event_count as double) / nullif(days.licensed_seats, 0)
            when measures.measure = 'active_users_trend' and previous_window.active_users > 0
                then cast(current_window.active_users - previous_window.active_users as double)
                    / previous_window.active_users
            when measures.measure = 'feature_breadth' then cast(current_window.features_used as double)
        end as measure_value
    from days
    cross join measures
    left join first_activity
        on days.account_id = first_activity.account_id
    inner join totals as current_window
        on days.account_id = current_window.account_id
        and days.score_date = current_window.score_date
        and measures.window_days = current_window.window_days
    inner join totals as previous_window
        on days.account_id = previous_window.account_id
        and previous_window.score_date = cast({{ dbt.dateadd('day', '(-1 * measures.window_days)', 'days.score_date') }} as date)
        and measures.window_days = previous_window.window_days
)

select * from computed
