-- Why each score is what it is: one row per account, day and measure with the measure's value, its
-- points, its weight in the scorecard, the weight left after measures without data dropped out, and its
-- contribution. An account-day's contributions plus its cap adjustment add up exactly to its score.
-- A view of int_account_measure_contributions, which keeps the history of every contribution: storing
-- the largest table twice would double the cost of every build.
{{ config(materialized=mart_view()) }}

select
    account_id || '|' || cast(score_date as {{ dbt.type_string() }}) || '|' || measure as account_day_measure_id,
    account_id,
    scorecard,
    component,
    measure,
    normalisation,
    measure_value,
    measure_points,
    -- The contract's precision on every engine (Spark derives one digit more from the product).
    cast(scorecard_weight as decimal(18, 12)) as scorecard_weight,
    effective_weight,
    contribution,
    has_data,
    score_date,
    scored_at
from {{ ref('int_account_measure_contributions') }}
