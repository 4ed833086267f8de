-- Every row of every scoring configuration seed as text, tagged with the hash of the whole configuration:
-- the version stamped on each score, so any score can be traced to the exact weights and rules behind it.
{%- set config_seeds = [
    'measures', 'measure_bands', 'scorecards', 'scorecard_assignments', 'scorecard_components',
    'scorecard_measure_weights', 'score_caps', 'health_bands', 'scoring_settings'
] %}

with config_rows as (
    {%- for seed in config_seeds %}
    select '{{ seed }}' as seed_name, {{ config_row_text(ref(seed)) }} as config_row from {{ ref(seed) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

version as (
    select
        {#- chr(10): a '\n' literal is a line break on Spark but two characters on DuckDB. #}
        {{ dbt.hash(ordered_listagg("seed_name || ':' || config_row", "chr(10)", "order by seed_name, config_row")) }}
            as config_version
    from config_rows
)

select
    version.config_version,
    config_rows.seed_name,
    config_rows.config_row
from config_rows
cross join version
