-- Why each score is what it is: one row per account, day and measure with the measure's value, its
-- points, its weight in the scorecard, the weight left after measures without data dropped out, and its
-- contribution. An account-day's contributions plus its cap adjustment add up exactly to its score.
{{ config(
    materialized='incremental',
    unique_key=['account_id', 'score_date', 'measure'],
    incremental_strategy=('merge' if target.type == 'spark' else 'delete+insert'),
    full_refresh=var('rebuild_history', false),
    on_schema_change='append_new_columns',
) }}

select
    account_day_measure_id,
    account_id,
    scorecard,
    component,
    measure,
    normalisation,
    measure_value,
    measure_points,
    scorecard_weight,
    effective_weight,
    contribution,
    has_data,
    score_date
from {{ ref('int_account_measure_contributions') }}
