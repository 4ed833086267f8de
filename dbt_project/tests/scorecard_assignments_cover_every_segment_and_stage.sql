-- Guards the scorecard resolution: every segment and lifecycle stage combination has a scorecard, so every account-day is judged.
{{ config(meta={'dagster': {'ref': {'name': 'scorecard_assignments'}}}) }}

with segments as (
    select 'SMB' as segment
    union all select 'Mid-Market'
    union all select 'Enterprise'
),

stages as (
    select 'onboarding' as lifecycle_stage
    union all select 'adopted'
    union all select 'renewal'
),

validation_errors as (
    select
        segments.segment,
        stages.lifecycle_stage,
        'seeds/scorecard_assignments.csv: no scorecard for segment ' || segments.segment || ' in lifecycle stage '
            || stages.lifecycle_stage as problem
    from segments
    cross join stages
    left join {{ ref('scorecard_assignments') }} as assignments
        on segments.segment = assignments.segment
        and stages.lifecycle_stage = assignments.lifecycle_stage
    where assignments.scorecard is null
)

select * from validation_errors
