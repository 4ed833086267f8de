-- Usage measures per account and day, each over its window ending on that day. Once an account has used
-- the product, or its onboarding period is over, an account without events in the window really did
-- not use the product: its counts are 0, not missing. A new account that has not started yet has no
-- usage data. The trend compares active users with the window before.
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
    where measure in ('active_user_ratio', 'active_days', 'events_per_seat', 'active_users_trend', 'feature_breadth')
),

windows as (
    select distinct window_days from measures
),

user_days as (
    select * from {{ ref('int_usage_user_days_aggregated') }}
),

feature_days as (
    select * from {{ ref('int_usage_feature_days_aggregated') }}
),

first_activity as (
    select account_id, min(activity_date) as first_activity_date from user_days group by account_id
),

user_activity as (
    select
        days.account_id,
        days.score_date,
        windows.window_days,
        count(distinct case
            when user_days.activity_date >= {{ window_start('days.score_date', 'windows.window_days') }}
                then user_days.user_id
        end) as active_users,
        count(distinct case
            when user_days.activity_date < {{ window_start('days.score_date', 'windows.window_days') }}
                then user_days.user_id
        end) as previous_active_users,
        count(distinct case
            when user_days.activity_date >= {{ window_start('days.score_date', 'windows.window_days') }}
                then user_days.activity_date
        end) as active_days,
        sum(case
            when user_days.activity_date >= {{ window_start('days.score_date', 'windows.window_days') }}
                then user_days.event_count
            else 0
        end) as event_count
    from days
    cross join windows
    left join user_days
        on {{ in_window('user_days', 'activity_date', '2 * windows.window_days') }}
    group by days.account_id, days.score_date, windows.window_days
),

feature_activity as (
    select
        days.account_id,
        days.score_date,
        windows.window_days,
        count(distinct feature_days.feature_name) as features_used
    from days
    cross join windows
    left join feature_days
        on {{ in_window('feature_days', 'activity_date') }}
    group by days.account_id, days.score_date, windows.window_days
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
                then cast(user_activity.active_users as double) / nullif(days.licensed_seats, 0)
            when measures.measure = 'active_days' then cast(user_activity.active_days as double)
            when measures.measure = 'events_per_seat'
                then cast(user_activity.event_count as double) / nullif(days.licensed_seats, 0)
            when measures.measure = 'active_users_trend' and user_activity.previous_active_users > 0
                then cast(user_activity.active_users - user_activity.previous_active_users as double)
                    / user_activity.previous_active_users
            when measures.measure = 'feature_breadth' then cast(feature_activity.features_used as double)
        end as measure_value
    from days
    cross join measures
    left join first_activity
        on days.account_id = first_activity.account_id
    inner join user_activity
        on days.account_id = user_activity.account_id
        and days.score_date = user_activity.score_date
        and measures.window_days = user_activity.window_days
    inner join feature_activity
        on days.account_id = feature_activity.account_id
        and days.score_date = feature_activity.score_date
        and measures.window_days = feature_activity.window_days
)

select * from computed
