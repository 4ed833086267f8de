-- The audit trail of scoring configurations: every configuration a score was ever computed with, row by
-- row, with the as-of day it was first used. Append-only and never rebuilt, so changing a weight later
-- leaves the record of how last month's scores were produced intact.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
    on_schema_change='append_new_columns',
) }}

with current_rows as (
    select * from {{ ref('int_scorecard_config_rows') }}
)

select
    current_rows.config_version,
    current_rows.seed_name,
    current_rows.config_row,
    {{ score_as_of_date() }} as first_as_of_date,
    cast({{ dbt.current_timestamp() }} as timestamp) as registered_at
from current_rows
{%- if is_incremental() %}
where current_rows.config_version not in (select config_version from {{ this }})
{%- endif %}
