-- How health develops by customer cohort and segment: at the end of each month (its last scored day), per cohort
-- (the quarter the contract started) and segment, the customers scored, their average score and the share in
-- each band. Attributes are those valid on the day (account_health_history carries them).
with month_ends as (
    select max(score_date) as score_date
    from {{ ref('account_health_history') }}
    group by {{ dbt.date_trunc('month', 'score_date') }}
),

scored_days as (
    select
        cast({{ dbt.date_trunc('quarter', 'history.contract_start_date') }} as date) as cohort_quarter,
        history.segment,
        history.score_date,
        history.health_score,
        history.health_band
    from {{ ref('account_health_history') }} as history
    inner join month_ends
        on history.score_date = month_ends.score_date
    where history.health_score is not null
)

select
    cohort_quarter,
    segment,
    score_date,
    count(*) as accounts,
    round(avg(health_score), 1) as average_health_score,
    round(avg(case when health_band = 'red' then 1.0 else 0.0 end), 3) as red_share,
    round(avg(case when health_band = 'yellow' then 1.0 else 0.0 end), 3) as yellow_share,
    round(avg(case when health_band = 'green' then 1.0 else 0.0 end), 3) as green_share
from scored_days
group by cohort_quarter, segment, score_date
order by cohort_quarter, segment, score_date
