-- ARR at risk by CSM, in the reporting currency: the ARR of each CSM's current customers in the red band (at
-- risk now) and the yellow band (next to watch), one total per CSM across account currencies, converted at the
-- rate of the score day (seeds/exchange_rates.csv). Largest ARR at risk first.
with current_customers as (
    select *
    from {{ ref('account_health_scores') }}
    where not is_churned
      and health_score is not null
)

select
    csm_owner,
    max(reporting_currency_code) as reporting_currency_code,
    count(*) as accounts,
    sum(case when health_band = 'red' then 1 else 0 end) as red_accounts,
    sum(case when health_band = 'yellow' then 1 else 0 end) as yellow_accounts,
    sum(arr_reporting_amount) as arr_reporting_amount,
    sum(case when health_band = 'red' then arr_reporting_amount else 0 end) as arr_at_risk_reporting_amount,
    sum(case when health_band = 'yellow' then arr_reporting_amount else 0 end) as yellow_arr_reporting_amount,
    round(
        100.0 * sum(case when health_band = 'red' then arr_reporting_amount else 0 end) / sum(arr_reporting_amount), 1
    ) as arr_at_risk_percent
from current_customers
group by csm_owner
order by arr_at_risk_reporting_amount desc, csm_owner
