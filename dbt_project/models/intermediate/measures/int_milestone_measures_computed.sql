-- Onboarding measures per account and day: of the milestones due by then, the share achieved by then
-- and their average delay; and the time to first value: days from contract start to the first_value
-- milestone, or the days elapsed so far once its target date has passed without it.
-- A milestone is due in the windows of days T to T + window - 1 (T its target date), and achieved in
-- those from its achievement day on; the counts are running totals over those days (macro running_totals).
with days as (
    select account_id, score_date, contract_start_date from {{ ref('int_account_days_assigned') }}
),

measures as (
    select measure, window_days
    from {{ ref('measures') }}
    where measure in {{ family_measure_list('milestone') }}
),

windows as (
    select distinct window_days from measures
),

milestones as (
    select
        milestones.*,
        windows.window_days,
        cast({{ dbt.dateadd('day', '(windows.window_days - 1)', 'milestones.target_date') }} as date)
            as last_window_date,
        case
            when milestones.achieved_date > milestones.target_date then milestones.achieved_date
            else milestones.target_date
        end as first_achieved_window_date
    from {{ ref('stg_onboarding__milestones') }} as milestones
    cross join windows
),

changes as (
    {{ range_changes(
        'milestones',
        'target_date',
        'last_window_date',
        {
            'milestones_due': '1',
            'milestones_achieved': '0',
            'total_delay_days': '0',
            'first_value_due': "case when milestone_name = 'first_value' then 1 else 0 end",
            'first_value_achieved': '0',
        },
    ) }}
    union all
    {{ range_changes(
        'milestones',
        'first_achieved_window_date',
        'last_window_date',
        {
            'milestones_due': '0',
            'milestones_achieved': '1',
            'total_delay_days': dbt.datediff('target_date', 'achieved_date', 'day'),
            'first_value_due': '0',
            'first_value_achieved': "case when milestone_name = 'first_value' then 1 else 0 end",
        },
        where='achieved_date is not null',
    ) }}
),

first_values as (
    select account_id, achieved_date from {{ ref('stg_onboarding__milestones') }} where milestone_name = 'first_value'
),

grid as (
    select days.account_id, windows.window_days, days.score_date
    from days
    cross join windows
),

totals as (
    {{ running_totals(
        'grid', 'changes',
        ['milestones_due', 'milestones_achieved', 'total_delay_days', 'first_value_due', 'first_value_achieved'],
    ) }}
),

progress as (
    select
        totals.*,
        case
            when totals.first_value_achieved > 0
                then {{ dbt.datediff('days.contract_start_date', 'first_values.achieved_date', 'day') }}
            when totals.first_value_due > 0
                then {{ dbt.datediff('days.contract_start_date', 'days.score_date', 'day') }}
        end as days_to_first_value
    from totals
    inner join days
        on totals.account_id = days.account_id
        and totals.score_date = days.score_date
    left join first_values
        on totals.account_id = first_values.account_id
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
