-- How the portfolio is doing: at the end of each month (its last scored day) and on the latest day, the whole
-- portfolio's accounts, average and median health, band shares, ARR and ARR at risk in the reporting currency,
-- NPS, ticket CSAT, monthly churn and net revenue retention (marts.portfolio_daily; --var dimension=segment,
-- csm_owner or scorecard splits it by that group instead).
with month_ends as (
    select max(score_date) as score_date
    from {{ ref('portfolio_daily') }}
    group by {{ dbt.date_trunc('month', 'score_date') }}
)

select
    daily.score_date,
    daily.dimension_value,
    daily.reporting_currency_code,
    daily.account_count,
    round(daily.average_health_score, 1) as average_health_score,
    round(daily.median_health_score, 1) as median_health_score,
    round(daily.green_share, 3) as green_share,
    round(daily.yellow_share, 3) as yellow_share,
    round(daily.red_share, 3) as red_share,
    daily.arr_reporting_amount,
    daily.arr_at_risk_reporting_amount,
    round(daily.nps, 1) as nps,
    round(daily.ticket_csat, 2) as ticket_csat,
    round(daily.monthly_churn_rate, 4) as monthly_churn_rate,
    round(daily.net_revenue_retention, 3) as net_revenue_retention
from {{ ref('portfolio_daily') }} as daily
inner join month_ends
    on daily.score_date = month_ends.score_date
where daily.dimension = '{{ var("dimension", "portfolio") }}'
order by daily.score_date, daily.dimension_value
