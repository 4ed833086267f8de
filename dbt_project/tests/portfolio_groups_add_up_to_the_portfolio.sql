-- Guards marts.portfolio_daily's arithmetic: on every day, the segment rows and the CSM rows add up to the
-- portfolio row (accounts, bands, ARR, answers, ratings, churn cohort, retention ARR), and so do the
-- scorecard rows for the day figures; their window counts cannot exceed the portfolio's.
{%- set additive = [
    'account_count', 'unscored_account_count', 'total_health_score', 'green_account_count', 'yellow_account_count',
    'red_account_count', 'arr_reporting_amount', 'arr_at_risk_reporting_amount', 'yellow_arr_reporting_amount',
] %}
{%- set window_counts = [
    'nps_response_count', 'nps_promoter_count', 'nps_detractor_count', 'csat_response_count',
    'csat_satisfied_count', 'churn_cohort_account_count', 'churn_cancelled_count',
    'nrr_starting_arr_reporting_amount', 'nrr_retained_arr_reporting_amount',
] %}

with portfolio as (
    select * from {{ ref('portfolio_daily') }} where dimension = 'portfolio'
),

group_totals as (
    select
        score_date,
        dimension,
        {%- for column in additive + window_counts %}
        sum({{ column }}) as {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('portfolio_daily') }}
    where dimension <> 'portfolio'
    group by score_date, dimension
),

validation_errors as (
    select group_totals.dimension, group_totals.score_date
    from group_totals
    inner join portfolio
        on group_totals.score_date = portfolio.score_date
    where 1 = 0
        {%- for column in additive %}
        or group_totals.{{ column }} <> portfolio.{{ column }}
        {%- endfor %}
        {%- for column in window_counts %}
        or (group_totals.dimension = 'scorecard' and group_totals.{{ column }} > portfolio.{{ column }})
        or (group_totals.dimension <> 'scorecard' and group_totals.{{ column }} <> portfolio.{{ column }})
        {%- endfor %}
    union all
    -- A day with groups but no portfolio row.
    select group_totals.dimension, group_totals.score_date
    from group_totals
    left join portfolio
        on group_totals.score_date = portfolio.score_date
    where portfolio.score_date is null
)

select * from validation_errors
