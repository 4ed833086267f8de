-- One row per account and day to score in this build, with the account's attributes as the CRM knew them
-- on that day, its lifecycle stage on that day and the scorecard it resolves to. Days run from the
-- account's contract start (not before the history start) to the as-of day, or to the day before its
-- cancellation took effect. Besides the days this build (re)computes, the days of the frozen reference
-- period are included when the percentile yardstick has to be computed (again): percentile measures are
-- ranked against them (see int_measure_reference_percentiles).
-- depends_on: {{ ref('int_scorecard_config_rows') }}
{{ assert_as_of_not_before_history() }}
with accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

versions as (
    select * from {{ ref('int_account_versions_recorded') }}
),

cancellations as (
    select * from {{ ref('int_account_cancellations_dated') }}
),

bounds as (
    select
        {{ score_as_of_date() }} as as_of_date,
        {{ recompute_from_date() }} as recompute_from_date,
        case when not {{ stored_reference_is_current() }} then {{ setting('reference_start_date', 'date') }} end
            as reference_start_date,
        case when not {{ stored_reference_is_current() }} then {{ setting('reference_end_date', 'date') }} end
            as reference_end_date,
        {{ history_start_date() }} as history_start_date,
        {{ setting('onboarding_days', 'integer') }} as onboarding_days,
        {{ setting('renewal_window_days', 'integer') }} as renewal_window_days
),

calendar_bounds as (
    select
        *,
        case
            when reference_start_date < recompute_from_date then reference_start_date
            else recompute_from_date
        end as calendar_start_date
    from bounds
),

calendar as (
    select
        cast({{ dbt.dateadd('day', 'integers.n', 'calendar_bounds.calendar_start_date') }} as date) as score_date
    from ({{ integers() }}) as integers
    cross join calendar_bounds
    where integers.n <= {{ dbt.datediff('calendar_bounds.calendar_start_date', 'calendar_bounds.as_of_date', 'day') }}
),

account_days as (
    select
        accounts.account_id,
        versions.segment,
        versions.licensed_seats,
        versions.arr_amount,
        accounts.contract_start_date,
        calendar.score_date,
        {{ dbt.datediff('accounts.contract_start_date', 'calendar.score_date', 'day') }} as days_since_contract_start,
        calendar.score_date >= calendar_bounds.recompute_from_date
            and calendar.score_date >= calendar_bounds.history_start_date as is_history_day,
        coalesce(
            calendar.score_date between calendar_bounds.reference_start_date and calendar_bounds.reference_end_date,
            false
        ) as is_reference_day,
        calendar_bounds.onboarding_days,
        calendar_bounds.renewal_window_days
    from accounts
    cross join calendar
    cross join calendar_bounds
    inner join versions
        on accounts.account_id = versions.account_id
        and {{ version_valid_on('versions', 'calendar.score_date') }}
    left join cancellations
        on accounts.account_id = cancellations.account_id
    where calendar.score_date >= accounts.contract_start_date
      and (cancellations.churned_date is null or calendar.score_date < cancellations.churned_date)
),

anniversaries as (
    select
        *,
        cast({{ dbt.dateadd(
            'year',
            '(cast(floor(days_since_contract_start / 365.25) as integer) + 1)',
            'contract_start_date'
        ) }} as date) as next_anniversary_date
    from account_days
    where is_history_day or is_reference_day
),

staged as (
    select
        *,
        case
            when days_since_contract_start < onboarding_days then 'onboarding'
            when {{ dbt.datediff('score_date', 'next_anniversary_date', 'day') }} <= renewal_window_days then 'renewal'
            else 'adopted'
        end as lifecycle_stage
    from anniversaries
),

assigned as (
    select
        staged.account_id,
        staged.segment,
        staged.lifecycle_stage,
        assignments.scorecard,
        staged.licensed_seats,
        staged.arr_amount,
        staged.days_since_contract_start,
        staged.is_history_day,
        staged.is_reference_day,
        staged.contract_start_date,
        staged.next_anniversary_date,
        staged.score_date
    from staged
    left join {{ ref('scorecard_assignments') }} as assignments
        on staged.segment = assignments.segment
        and staged.lifecycle_stage = assignments.lifecycle_stage
)

select * from assigned
