-- Guards the configuration: every measure in seeds/measures.csv is computed by a model (a typo would otherwise silently score nothing).
{{ config(meta={'dagster': {'ref': {'name': 'measures'}}}) }}

select configured.measure
from {{ ref('measures') }} as configured
where configured.measure not in (
    {%- for family, measures in measure_families().items() %}
    {%- for m in measures %}'{{ m }}'{% if not loop.last %}, {% endif %}{% endfor %}{% if not loop.last %}, {% endif %}
    {%- endfor %}
)
