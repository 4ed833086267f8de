-- One row per alert episode: the days on which a rule's condition held for an account, up to the day it
-- clears. It clears once the condition has not held for `alert_clear_after_days` scored days in a row (a
-- shorter lapse continues the episode, so a score flickering around a band border raises one alert, not
-- one a week); it also ends when the account cancels. The episode is raised on its first day and raises
-- nothing new while it lasts.
with conditions as (
    select * from {{ ref('int_alert_conditions_met') }}
),

settings as (
    select {{ alert_setting('alert_clear_after_days', 'integer') }} as clear_after_days
),

previous_days as (
    select
        conditions.*,
        lag(score_date) over (partition by account_id, rule order by score_date) as previous_met_on
    from conditions
),

starts as (
    select
        previous_days.*,
        case
            when previous_days.previous_met_on is null then 1
            when {{ dbt.datediff('previous_days.previous_met_on', 'previous_days.score_date', 'day') }}
                > settings.clear_after_days then 1
            else 0
        end as is_episode_start
    from previous_days
    cross join settings
),

numbered as (
    select
        starts.*,
        sum(is_episode_start) over (
            partition by account_id, rule order by score_date rows between unbounded preceding and current row
        ) as episode_number
    from starts
),

episodes as (
    select
        account_id,
        rule,
        min(score_date) as raised_on,
        max(score_date) as last_met_on,
        count(*) as days_met
    from numbered
    group by account_id, rule, episode_number
),

last_scored_days as (
    select account_id, max(score_date) as last_scored_on
    from {{ ref('account_health_history') }}
    group by account_id
),

cancellations as (
    select * from {{ ref('int_account_cancellations_dated') }}
    where churned_date <= {{ score_as_of_date() }}
),

closing as (
    select
        episodes.*,
        {{ dbt.datediff('episodes.last_met_on', 'last_scored_days.last_scored_on', 'day') }}
            >= settings.clear_after_days as is_cleared,
        cancellations.churned_date
    from episodes
    cross join settings
    inner join last_scored_days
        on episodes.account_id = last_scored_days.account_id
    left join cancellations
        on episodes.account_id = cancellations.account_id
),

final as (
    select
        closing.account_id,
        closing.rule,
        first_day.driver,
        case
            when closing.is_cleared then 'condition_cleared'
            when closing.churned_date is not null then 'account_churned'
        end as closed_by,
        first_day.observed_value,
        closing.days_met,
        closing.is_cleared or closing.churned_date is not null as is_closed,
        closing.raised_on,
        closing.last_met_on,
        case
            when closing.is_cleared then cast({{ dbt.dateadd('day', 1, 'closing.last_met_on') }} as date)
            else closing.churned_date
        end as cleared_on,
        first_day.renewal_date
    from closing
    inner join conditions as first_day
        on closing.account_id = first_day.account_id
        and closing.rule = first_day.rule
        and closing.raised_on = first_day.score_date
)

select * from final
