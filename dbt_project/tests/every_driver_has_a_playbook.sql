-- Guards that every measure that can be an account's top driver (a cap stands for its measure) and every
-- enabled alert rule reaches a playbook row: without one, account_actions would have no action for it.
with playbooks as (
    select * from {{ ref('playbooks') }}
),

measures_without_playbook as (
    select
        'measures.csv' as seed_file,
        measures.measure as missing_trigger,
        'seeds/playbooks.csv: no playbook row for measure ' || measures.measure || ' nor for its component '
            || measures.component || ' (seeds/measures.csv)' as problem
    from {{ ref('measures') }} as measures
    where not exists (
        select 1 from playbooks
        where (playbooks.trigger_type = 'measure' and playbooks.trigger = measures.measure)
           or (playbooks.trigger_type = 'component' and playbooks.trigger = measures.component)
    )
),

rules_without_playbook as (
    select
        'alert_rules.csv' as seed_file,
        rules.rule as missing_trigger,
        'seeds/playbooks.csv: no playbook row for the enabled alert rule ' || rules.rule
            || ' (seeds/alert_rules.csv)' as problem
    from {{ ref('alert_rules') }} as rules
    where rules.is_enabled
      and not exists (
        select 1 from playbooks
        where playbooks.trigger_type = 'alert_rule' and playbooks.trigger = rules.rule
    )
)

select * from measures_without_playbook
union all
select * from rules_without_playbook
