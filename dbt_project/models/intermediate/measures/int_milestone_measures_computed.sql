-- Onboarding measures per account and day: of the milestones due by then, the share achieved by then
-- and their average delay; and the time to first value: days from contract start to the first_value
-- milestone, or the days elapsed so far once its target date has passed without it.
with days as (
    select account_id, score_date, contract_start_date from {{ ref('int_account_days_assigned') }}
),

measures as (
    select measure, window_days
    from {{ ref('measures') }}
    where measure in ('milestones_achieved_share', 'milestone_delay_days', 'days_to_first_value')
),

windows as (
    select distinct window_days from measures
),

milestones as (
    select * from {{ ref('stg_onboarding__milestones') }}
),

progress as (
    select
        days.account_id,
        days.score_date,
        windows.window_days,
        count(milestones.account_id) as milestones_due,
        sum(case when milestones.achieved_date <= days.score_date then 1 else 0 end) as milestones_achieved,
        sum(case
            when milestones.achieved_date <= days.score_date
                then {{ dbt.datediff('milestones.target_date', 'milestones.achieved_date', 'day') }}
        end) as total_delay_days,
        max(case
            when milestones.milestone_name = 'first_value' and milestones.achieved_date <= days.score_date
                then {{ dbt.datediff('days.contract_start_date', 'milestones.achieved_date', 'day') }}
            when milestones.milestone_name = 'first_value'
                then {{ dbt.datediff('days.contract_start_date', 'days.score_date', 'day') }}
        end) as days_to_first_value
    from days
    cross join windows
    left join milestones
        on {{ in_window('milestones', 'target_date') }}
    group by days.account_id, days.score_date, windows.window_days
),

computed as (
    select
        days.account_id,
        days.score_date,
        measures.measure,
        case
            when progress.milestones_due = 0 then null
            when measures.measure = 'milestones_achieved_share'
                then cast(progress.milestones_achieved as double) / progress.milestones_due
            when measures.measure = 'milestone_delay_days' and progress.milestones_achieved > 0
                then case
                    when progress.total_delay_days < 0 then 0.0
                    else cast(progress.total_delay_days as double) / progress.milestones_achieved
                end
            when measures.measure = 'days_to_first_value' then cast(progress.days_to_first_value as double)
        end as measure_value
    from days
    cross join measures
    inner join progress
        on days.account_id = progress.account_id
        and days.score_date = progress.score_date
        and measures.window_days = progress.window_days
)

select * from computed
