-- The day each account's contract ended: its first cancellation, with the reason the CRM gave for it. Scoring
-- stops the day before it, the backtest labels an observation churned when this day falls in its outcome
-- window, and the portfolio's churn counts it. Downgrades are recorded in the churn events too but are not
-- the end of the customer.
with cancellations as (
    select
        account_id,
        churn_reason,
        churned_date,
        -- Two cancellations on the same first day: the reason first in alphabetical order, so builds agree.
        row_number() over (partition by account_id order by churned_date, churn_reason) as cancellation_number
    from {{ ref('stg_crm__churn_events') }}
    where is_cancellation
)

select
    account_id,
    churn_reason,
    churned_date
from cancellations
where cancellation_number = 1
