-- The alerts customer success acts on: one row per episode of a rule (seeds/alert_rules.csv) for an
-- account, with the figures of the day it was raised in one sentence. An episode raises one alert and
-- nothing more until its condition clears (int_alert_episodes_grouped); a later episode is a new alert. Rebuilt whole from the daily
-- history on every refresh; the history is point in time, so a past episode comes out the same and its
-- `alert_id` (a hash of rule, account and first day) never changes.
with episodes as (
    select * from {{ ref('int_alert_episodes_grouped') }}
),

rules as (
    select * from {{ ref('alert_rules') }}
),

severities as (
    select * from {{ ref('alert_severities') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

measures as (
    select * from {{ ref('measures') }}
),

history as (
    select * from {{ ref('account_health_history') }}
),

-- The as-of day is the history's last day; reading it there is cheaper than from the usage events.
as_of as (
    select max(score_date) as as_of_date from history
),

score_caps_by_name as (
    select * from {{ ref('score_caps') }}
),

-- The day's top driver as a measure: a cap stands for the measure it watches.
raised as (
    select
        episodes.*,
        raised_day.health_score,
        raised_day.health_band,
        raised_day.change_7d,
        raised_day.top_driver_reason,
        coalesce(score_caps_by_name.measure, raised_day.top_driver) as top_driver_measure,
        raised_day.usage_contribution - week_before.usage_contribution as usage_change,
        raised_day.support_contribution - week_before.support_contribution as support_change,
        raised_day.payment_contribution - week_before.payment_contribution as payment_change,
        raised_day.feedback_contribution - week_before.feedback_contribution as feedback_change,
        raised_day.milestones_contribution - week_before.milestones_contribution as milestones_change
    from episodes
    inner join history as raised_day
        on episodes.account_id = raised_day.account_id
        and episodes.raised_on = raised_day.score_date
    left join history as week_before
        on episodes.rule = 'score_drop'
        and episodes.account_id = week_before.account_id
        and week_before.score_date = cast({{ dbt.dateadd('day', -7, 'episodes.raised_on') }} as date)
    left join score_caps_by_name
        on raised_day.top_driver = 'cap:' || score_caps_by_name.cap
),

-- A score drop is driven by the component that lost the most points in the 7 days.
{%- set components = ['usage', 'support', 'payment', 'feedback', 'milestones'] %}
component_drops as (
    {%- for component in components %}
    select account_id, raised_on, '{{ component }}' as component, {{ component }}_change as points_change
    from raised
    where rule = 'score_drop' and {{ component }}_change is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

largest_drops as (
    select account_id, raised_on, component, points_change
    from (
        select
            component_drops.*,
            row_number() over (
                partition by account_id, raised_on order by points_change, component
            ) as drop_rank
        from component_drops
    ) as ranked
    where drop_rank = 1
),

described as (
    select
        raised.*,
        accounts.account_name,
        accounts.segment,
        accounts.csm_owner,
        rules.severity,
        severities.priority_rank as severity_rank,
        rules.webhook_env_var,
        coalesce(raised.driver, largest_drops.component, raised.top_driver_measure) as alert_driver,
        coalesce({{ format_score('raised.health_score') }}, 'not scored') as score_text,
        coalesce(
            {{ format_score('raised.health_score - raised.change_7d') }} || ' seven days before',
            'no score seven days before'
        ) as week_before_text,
        coalesce(raised.top_driver_reason, 'none') as driver_reason_text,
        largest_drops.component as dropped_component,
        largest_drops.points_change as dropped_points,
        measures.unit as driver_unit
    from raised
    inner join accounts
        on raised.account_id = accounts.account_id
    inner join rules
        on raised.rule = rules.rule
    inner join severities
        on rules.severity = severities.severity
    left join largest_drops
        on raised.rule = 'score_drop'
        and raised.account_id = largest_drops.account_id
        and raised.raised_on = largest_drops.raised_on
    left join measures
        on raised.driver = measures.measure
),

final as (
    select
        {{ dbt.hash("described.rule || '|' || described.account_id || '|' || cast(described.raised_on as " ~ dbt.type_string() ~ ")") }}
            as alert_id,
        described.rule,
        described.severity,
        described.account_id,
        described.account_name,
        described.segment,
        described.csm_owner,
        described.alert_driver as driver,
        case described.rule
            when 'entered_red' then
                described.account_name || ' entered red: health ' || described.score_text
                || ' (' || described.week_before_text || '); biggest driver: ' || described.driver_reason_text
            when 'score_drop' then
                described.account_name || ' lost ' || {{ format_score('-1 * described.observed_value') }}
                || ' points in 7 days: health ' || described.score_text || ' (' || described.week_before_text
                || '); biggest fall: ' || coalesce(described.dropped_component, 'n/a') || ', '
                || coalesce({{ format_score('described.dropped_points') }}, 'n/a') || ' points'
            when 'usage_drop' then
                described.account_name || ' has ' || {{ format_measure_value('described.observed_value', 'described.driver_unit') }}
                || ' fewer active users than in the previous 30 days: health ' || described.score_text
            when 'invoice_overdue' then
                described.account_name || ' has an unpaid invoice '
                || {{ format_measure_value('described.observed_value', 'described.driver_unit') }}
                || ' days past its due date: health ' || described.score_text
            when 'detractor_nps' then
                described.account_name || ' answered the NPS survey with '
                || cast(cast(described.observed_value as integer) as {{ dbt.type_string() }})
                || ' of 10: health ' || described.score_text
            when 'renewal_at_risk' then
                described.account_name || ' renews on ' || cast(described.renewal_date as {{ dbt.type_string() }})
                || ', in ' || cast(cast(described.observed_value as integer) as {{ dbt.type_string() }})
                || ' days, while ' || described.health_band || ': health ' || described.score_text
                || '; biggest driver: ' || described.driver_reason_text
            when 'low_csm_rating' then
                described.account_name || ' is rated ' || cast(cast(described.observed_value as integer) as {{ dbt.type_string() }})
                || ' of 5 by its customer success manager: health ' || described.score_text
        end as message,
        described.webhook_env_var,
        described.health_band,
        described.closed_by,
        described.severity_rank,
        described.health_score,
        described.observed_value,
        described.days_met,
        not described.is_closed as is_open,
        not described.is_closed
            and described.raised_on >= {{ window_start(
                'as_of.as_of_date', seed_setting('alert_settings', 'alert_delivery_lookback_days', 'integer')
            ) }}
            as is_deliverable,
        described.raised_on,
        described.last_met_on,
        described.cleared_on
    from described
    cross join as_of
)

select * from final
