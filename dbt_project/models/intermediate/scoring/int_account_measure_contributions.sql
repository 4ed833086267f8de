-- Each measure's share of an account-day's health score, one row per account, day and measure of the
-- day's scorecard: value, points, weights, effective weight and contribution, as int_account_health_scored
-- computed them. An account-day's contributions plus its cap adjustment add up exactly to its score.
-- The largest table of the project (account-days x measures), so it keeps the whole history itself and
-- a build adds only the days it scores, like the score history (fct_health_score_contributions is a view
-- of it): `--full-refresh` does not rebuild it, `--vars '{rebuild_history: true}'` does.
{{ config(
    materialized='incremental',
    full_refresh=var('rebuild_history', false),
    on_schema_change='append_new_columns',
    **incremental_replacement('score_date', unique_key='score_date'),
) }}
{%- set measures = scored_measures() %}

with scored as (
    select * from {{ ref('int_account_health_scored') }}
),

measures as (
    select measure, component, normalisation from {{ ref('measures') }}
),

contributions as (
    {%- for m in measures %}
    select
        scored.account_id,
        scored.scorecard,
        measures.component,
        measures.measure,
        measures.normalisation,
        scored.{{ m }}__value as measure_value,
        scored.{{ m }}__points as measure_points,
        scored.{{ m }}__measure_weight as measure_weight,
        scored.{{ m }}__component_weight as component_weight,
        scored.{{ m }}__weight as scorecard_weight,
        scored.weight_with_data,
        scored.{{ m }}__effective_weight as effective_weight,
        scored.{{ m }}__contribution as contribution,
        scored.{{ m }}__points is not null as has_data,
        scored.score_date
    from scored
    inner join measures
        on measures.measure = '{{ m }}'
    where scored.{{ m }}__weight is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select
    *,
    cast({{ dbt.current_timestamp() }} as timestamp) as scored_at
from contributions
