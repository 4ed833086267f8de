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

{%- set usage_totals = ['active_users', 'features_used', 'active_days', 'event_count'] %}

changes as (
    {{ distinct_activity_changes('user_days', 'user_id', 'windows', 'active_users', usage_totals) }}
    union all
    {{ distinct_activity_changes('feature_days', 'feature_name', 'windows', 'features_used', usage_totals) }}
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
    {{ running_totals('grid', 'changes', usage_totals) }}
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
