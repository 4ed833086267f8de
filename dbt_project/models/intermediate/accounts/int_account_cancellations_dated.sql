-- The day each account's contract ended: its first cancellation. Scoring stops the day before it, and the
-- backtest labels an observation churned when this day falls in its outcome window. Downgrades are
-- recorded in the churn events too but are not the end of the customer.
select
    account_id,
    min(churned_date) as churned_date
from {{ ref('stg_crm__churn_events') }}
where is_cancellation
group by account_id
