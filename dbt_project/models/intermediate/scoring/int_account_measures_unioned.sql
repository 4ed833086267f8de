-- All measure values of all account-days in one long table, with the segment and scorecard of the day.
-- A view: the scoring model reads it once, so storing it would only copy every measure value again.
{{ config(materialized='view') }}

with measure_values as (
    select * from {{ ref('int_usage_measures_computed') }}
    union all
    select * from {{ ref('int_support_measures_computed') }}
    union all
    select * from {{ ref('int_payment_measures_computed') }}
    union all
    select * from {{ ref('int_feedback_measures_computed') }}
    union all
    select * from {{ ref('int_milestone_measures_computed') }}
),

unioned as (
    select
        measure_values.account_id,
        days.segment,
        days.scorecard,
        measure_values.measure,
        measure_values.measure_value,
        days.is_history_day,
        days.is_reference_day,
        measure_values.score_date
    from measure_values
    inner join {{ ref('int_account_days_assigned') }} as days
        on measure_values.account_id = days.account_id
        and measure_values.score_date = days.score_date
)

select * from unioned
