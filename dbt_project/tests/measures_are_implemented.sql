-- Guards the configuration: every measure in seeds/measures.csv is computed by a model (a typo would otherwise silently score nothing).
{{ config(meta={'dagster': {'ref': {'name': 'measures'}}}) }}

select configured.measure
from {{ ref('measures') }} as configured
left join (select distinct measure from {{ ref('int_account_measures_unioned') }}) as computed
    on configured.measure = computed.measure
where computed.measure is null
