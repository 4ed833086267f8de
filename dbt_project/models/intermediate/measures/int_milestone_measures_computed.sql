-- Onboarding measures per account on its scored day: of the milestones due by then, the share achieved
-- by then, and the average delay of those achieved. Accounts without due milestones have no value.
with accounts as (
    select account_id, scored_date from {{ ref('int_accounts_enriched') }}
),

measures as (
    select measure, window_days
    from {{ ref('scorecard_measures') }}
    where measure in ('milestones_achieved_share', 'milestone_delay_days')
),

milestones as (
    select * from {{ ref('stg_onboarding__milestones') }}
),

progress as (
    select
        accounts.account_id,
        measures.measure,
        count(milestones.account_id) as milestones_due,
        sum(case when milestones.achieved_date <= accounts.scored_date then 1 else 0 end) as milestones_achieved,
        sum(case
            when milestones.achieved_date <= accounts.scored_date
                then {{ dbt.datediff('milestones.target_date', 'milestones.achieved_date', 'day') }}
        end) as total_delay_days
    from accounts
    cross join measures
    left join milestones
        on milestones.account_id = accounts.account_id
        and milestones.target_date <= accounts.scored_date
        and milestones.target_date >= {{ window_start('accounts.scored_date', 'measures.window_days') }}
    group by accounts.account_id, measures.measure
),

computed as (
    select
        account_id,
        measure,
        case
            when milestones_due = 0 then null
            when measure = 'milestones_achieved_share' then cast(milestones_achieved as double) / milestones_due
            when measure = 'milestone_delay_days' and milestones_achieved > 0
                then case
                    when total_delay_days < 0 then 0.0
                    else cast(total_delay_days as double) / milestones_achieved
                end
        end as measure_value
    from progress
)

select * from computed
