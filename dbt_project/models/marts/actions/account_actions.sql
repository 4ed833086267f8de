-- What to do next for every current account outside the healthy band (yellow and red by default): one
-- action per open alert and one for the account's top driver, each from seeds/playbooks.csv, numbered by
-- priority. Alerts come first, the most severe first (seeds/alert_severities.csv), then the shortest
-- deadline; the top driver's structural fix comes after them. The driver's playbook is the measure's own
-- row, or else its component's (trigger_type says which was used); a cap stands for the measure it watches.
with accounts as (
    select * from {{ ref('account_health_scores') }}
    where not is_churned
      and health_band <> {{ seed_setting('alert_settings', 'healthy_band', dbt.type_string()) }}
),

playbooks as (
    select * from {{ ref('playbooks') }}
),

open_alerts as (
    select * from {{ ref('health_alerts') }}
    where is_open
),

alert_actions as (
    select
        accounts.account_id,
        'alert_rule' as trigger_type,
        open_alerts.rule as trigger,
        -- The message gives the figures of the day the alert was raised; the date says how old they are.
        open_alerts.message || ' (raised on ' || cast(open_alerts.raised_on as {{ dbt.type_string() }}) || ')' as reason,
        severities.priority_rank,
        open_alerts.raised_on
    from accounts
    inner join open_alerts
        on accounts.account_id = open_alerts.account_id
    inner join {{ ref('alert_severities') }} as severities
        on open_alerts.severity = severities.severity
),

drivers as (
    select
        accounts.account_id,
        accounts.top_driver_reason,
        coalesce(caps.measure, accounts.top_driver) as driver_measure
    from accounts
    left join {{ ref('score_caps') }} as caps
        on accounts.top_driver = 'cap:' || caps.cap
),

driver_actions as (
    select
        drivers.account_id,
        case when measure_playbooks.trigger is not null then 'driver' else 'component' end as trigger_type,
        coalesce(measure_playbooks.trigger, measures.component) as trigger,
        drivers.top_driver_reason as reason,
        -- After every alert, whatever its severity.
        (select max(priority_rank) + 1 from {{ ref('alert_severities') }}) as priority_rank,
        cast(null as date) as raised_on
    from drivers
    inner join {{ ref('measures') }} as measures
        on drivers.driver_measure = measures.measure
    left join playbooks as measure_playbooks
        on measure_playbooks.trigger_type = 'measure'
        and drivers.driver_measure = measure_playbooks.trigger
),

triggered as (
    select * from alert_actions
    union all
    select * from driver_actions
),

planned as (
    select
        triggered.*,
        playbooks.action,
        playbooks.owner_role,
        playbooks.due_days,
        playbooks.customer_step_en,
        playbooks.customer_step_de
    from triggered
    inner join playbooks
        on playbooks.trigger_type = case triggered.trigger_type when 'driver' then 'measure' else triggered.trigger_type end
        and triggered.trigger = playbooks.trigger
),

prioritised as (
    select
        planned.*,
        row_number() over (
            partition by planned.account_id
            order by planned.priority_rank, planned.due_days, planned.raised_on, planned.trigger
        ) as priority
    from planned
),

final as (
    select
        prioritised.account_id || '|' || prioritised.trigger_type || '|' || prioritised.trigger as account_action_id,
        accounts.account_id,
        accounts.account_name,
        accounts.csm_owner,
        accounts.health_band,
        prioritised.trigger_type,
        prioritised.trigger,
        prioritised.reason,
        prioritised.action,
        prioritised.owner_role,
        case when prioritised.owner_role = 'csm' then coalesce(accounts.csm_owner, 'csm') else prioritised.owner_role end
            as owner,
        prioritised.customer_step_en,
        prioritised.customer_step_de,
        accounts.health_score,
        -- bigint on every engine (Spark numbers rows as int).
        cast(prioritised.priority as bigint) as priority,
        prioritised.due_days,
        prioritised.priority = 1 as is_primary,
        cast({{ dbt.dateadd('day', 'prioritised.due_days', 'accounts.score_date') }} as date) as due_date,
        accounts.score_date
    from prioritised
    inner join accounts
        on prioritised.account_id = accounts.account_id
)

select * from final
