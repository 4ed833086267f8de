-- Guards the explanation of every score change: for each account-day this build scored and each window, the drivers' shares add up exactly to the difference of the two days' scores (the history's change_7d / change_30d, which stays empty across configuration versions), a day without a change has no drivers, and account_score_changes holds that change.
{{ config(meta={'dagster': {'ref': {'name': 'int_score_changes_decomposed'}}}) }}

with scored_days as (
    select min(score_date) as first_score_date
    from {{ ref('int_account_days_assigned') }}
    where is_history_day
),

windows as (
    {{ score_change_window_rows() }}
),

history_changes as (
    select
        history.account_id,
        history.score_date,
        windows.window_days,
        cast(history.health_score - earlier.health_score as decimal(10, 6)) as score_change
    from {{ ref('account_health_history') }} as history
    cross join windows
    left join {{ ref('account_health_history') }} as earlier
        on history.account_id = earlier.account_id
        and earlier.score_date = cast({{ dbt.dateadd('day', '(-1 * windows.window_days)', 'history.score_date') }} as date)
    where history.score_date >= (select first_score_date from scored_days)
),

driver_sums as (
    select account_id, score_date, window_days, sum(change_points) as driver_sum, count(*) as drivers
    from {{ ref('int_score_changes_decomposed') }}
    where score_date >= (select first_score_date from scored_days)
    group by account_id, score_date, window_days
),

explained_changes as (
    select account_id, score_date, window_days, score_change
    from {{ ref('account_score_changes') }}
    where score_date >= (select first_score_date from scored_days)
),

validation_errors as (
    select
        coalesce(history_changes.account_id, driver_sums.account_id, explained_changes.account_id) as account_id,
        coalesce(history_changes.score_date, driver_sums.score_date, explained_changes.score_date) as score_date,
        coalesce(history_changes.window_days, driver_sums.window_days, explained_changes.window_days) as window_days,
        history_changes.score_change,
        driver_sums.driver_sum,
        explained_changes.score_change as explained_change,
        case
            when history_changes.account_id is null then 'drivers or an explanation for an account-day not in the history'
            when history_changes.score_change is null and driver_sums.drivers is not null
                then 'drivers for a day without a change'
            when history_changes.score_change is null then 'an explanation for a day without a change'
            when history_changes.score_change <> coalesce(driver_sums.driver_sum, 0)
                then 'drivers do not add up to the change'
            when explained_changes.account_id is null then 'no row in account_score_changes'
            else 'account_score_changes shows another change'
        end as problem
    from history_changes
    full outer join driver_sums
        on history_changes.account_id = driver_sums.account_id
        and history_changes.score_date = driver_sums.score_date
        and history_changes.window_days = driver_sums.window_days
    full outer join explained_changes
        on coalesce(history_changes.account_id, driver_sums.account_id) = explained_changes.account_id
        and coalesce(history_changes.score_date, driver_sums.score_date) = explained_changes.score_date
        and coalesce(history_changes.window_days, driver_sums.window_days) = explained_changes.window_days
    where history_changes.account_id is null
        or (history_changes.score_change is null and (driver_sums.drivers is not null or explained_changes.account_id is not null))
        or (history_changes.score_change is not null and (
            history_changes.score_change <> coalesce(driver_sums.driver_sum, 0)
            or explained_changes.account_id is null
            or explained_changes.score_change <> history_changes.score_change
        ))
)

select * from validation_errors
