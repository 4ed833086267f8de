-- Guards the configuration: every measure in the seed is computed by a model (a typo would silently score nothing).
{{ config(meta={'dagster': {'ref': {'name': 'scorecard_measures'}}}) }}

select configured.measure
from {{ ref('scorecard_measures') }} as configured
left join (select distinct measure from {{ ref('int_account_measures_scored') }}) as computed
    on configured.measure = computed.measure
where computed.measure is null
