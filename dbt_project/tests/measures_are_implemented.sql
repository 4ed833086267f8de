-- Guards the configuration: there are measures, and every measure in seeds/measures.csv is computed by a model (a typo would otherwise silently score nothing).
{{ config(meta={'dagster': {'ref': {'name': 'measures'}}}) }}

select
    configured.measure,
    'seeds/measures.csv: measure ' || configured.measure || ' is not computed by any model (see measure_families in '
        || 'dbt_project/macros/measure_families.sql)' as problem
from {{ ref('measures') }} as configured
where configured.measure not in (
    {%- for family, measures in measure_families().items() %}
    {%- for m in measures %}'{{ m }}'{% if not loop.last %}, {% endif %}{% endfor %}{% if not loop.last %}, {% endif %}
    {%- endfor %}
)

union all

-- An empty seed passes every per-measure rule and scores nothing.
select cast(null as {{ dbt.type_string() }}), 'seeds/measures.csv has no measures'
from (select count(*) as measures from {{ ref('measures') }}) as configured
where configured.measures = 0
