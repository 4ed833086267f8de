-- Every configured measure of every account turned into 0-100 points by its linear ramp: the floor
-- earns 0, the target 100, values beyond either end are clamped. A floor above the target means lower
-- is better. A measure without a value gets no points and drops out of its component.
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

measures as (
    select * from {{ ref('scorecard_measures') }}
),

ramped as (
    select
        measure_values.account_id,
        measures.component,
        measure_values.measure,
        measure_values.measure_value,
        measures.weight as measure_weight,
        measures.floor_value,
        measures.target_value,
        (measure_values.measure_value - measures.floor_value)
            / (measures.target_value - measures.floor_value) as ramp_position
    from measure_values
    inner join measures
        on measure_values.measure = measures.measure
),

scored as (
    select
        account_id,
        component,
        measure,
        measure_value,
        measure_weight,
        floor_value,
        target_value,
        {{ score_value('''case
            when ramp_position is null then null
            when ramp_position <= 0 then 0.0
            when ramp_position >= 1 then 100.0
            else 100.0 * ramp_position
        end''') }} as measure_points,
        measure_value is not null as has_data
    from ramped
)

select * from scored
