-- Guards the percentile normalisation: every segment has reference values for every percentile measure, otherwise the measure silently counts as missing.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'int_measure_reference_percentiles'}}}) }}

with needed as (
    select distinct accounts.segment, measures.measure
    from {{ ref('stg_crm__accounts') }} as accounts
    cross join {{ ref('measures') }} as measures
    where measures.normalisation = 'percentile'
)

select
    needed.*,
    'seeds/measures.csv: percentile measure ' || needed.measure || ' has no reference values for segment '
        || needed.segment || ', where it counts as missing' as problem
from needed
left join (select distinct segment, measure from {{ ref('int_measure_reference_percentiles') }}) as reference
    on needed.segment = reference.segment
    and needed.measure = reference.measure
where reference.measure is null
