-- Guards the depth bound of the hierarchy roll-up: an account further below an ancestor than
-- seeds/hierarchy_settings.csv `max_depth` does not count in that ancestor's family; raise the bound. A warning,
-- not an error: a deep CRM hierarchy must not keep every account's scores from being published.
{{ config(severity='warn') }}
select
    account_id,
    ancestor_account_id,
    ancestor_depth,
    valid_from_date,
    'seeds/hierarchy_settings.csv: account ' || account_id || ' is ' || cast(ancestor_depth as {{ dbt.type_string() }})
        || ' levels below account ' || ancestor_account_id || ', deeper than max_depth allows: raise it' as problem
from {{ ref('int_account_ancestors_resolved') }}
where not is_within_max_depth
