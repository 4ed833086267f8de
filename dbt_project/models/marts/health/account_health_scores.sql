-- The current state for BI and customer-success teams: one row per account with its latest score, band,
-- trend, coverage, component scores and top driver, plus the account attributes people filter on.
-- Churned accounts show the last score they had as customers.
with latest as (
    select *
    from (
        select
            history.*,
            row_number() over (partition by account_id order by score_date desc) as recency
        from {{ ref('account_health_history') }} as history
    ) as ranked
    where recency = 1
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

cancellations as (
    select * from {{ ref('int_account_cancellations_dated') }}
),

exchange_rates as (
    select * from {{ ref('int_exchange_rates_dated') }}
),

-- Why the latest score moved, in words (marts.account_score_changes holds every day and its drivers).
explanations as (
    select
        account_id,
        score_date,
        max(case when window_days = 7 then explanation end) as change_explanation_7d,
        max(case when window_days = 30 then explanation end) as change_explanation_30d
    from {{ ref('account_score_changes') }}
    where score_date in (select score_date from latest)
    group by account_id, score_date
),

final as (
    select
        accounts.account_id,
        accounts.account_name,
        accounts.segment,
        accounts.plan_name,
        accounts.country_code,
        accounts.currency_code,
        {{ reporting_currency_code() }} as reporting_currency_code,
        accounts.csm_owner,
        latest.lifecycle_stage,
        latest.scorecard,
        latest.health_band,
        coalesce(latest.score_status, 'insufficient_data') as score_status,
        coalesce(latest.status_reason, 'insufficient data: no scored day yet') as status_reason,
        latest.trend,
        latest.weakest_component,
        latest.top_driver,
        latest.top_driver_reason,
        explanations.change_explanation_7d,
        explanations.change_explanation_30d,
        latest.capped_by,
        latest.config_version,
        latest.health_score,
        latest.change_7d,
        latest.change_30d,
        latest.coverage,
        latest.usage_score,
        latest.support_score,
        latest.payment_score,
        latest.feedback_score,
        latest.milestones_score,
        accounts.arr_amount,
        {{ to_reporting_currency('accounts.arr_amount', 'exchange_rates') }} as arr_reporting_amount,
        accounts.licensed_seats,
        cancellations.churned_date is not null and cancellations.churned_date <= {{ score_as_of_date() }}
            as is_churned,
        latest.is_config_changed_7d,
        latest.is_config_changed_30d,
        accounts.contract_start_date,
        accounts.renewal_date,
        cancellations.churned_date,
        latest.score_date
    from accounts
    left join latest
        on accounts.account_id = latest.account_id
    left join cancellations
        on accounts.account_id = cancellations.account_id
    -- At the rate of the day the score describes (the as-of day while there is no score yet).
    left join exchange_rates
        on accounts.currency_code = exchange_rates.currency_code
        and {{ exchange_rate_valid_on('exchange_rates', 'coalesce(latest.score_date, ' ~ score_as_of_date() ~ ')') }}
    left join explanations
        on latest.account_id = explanations.account_id
        and latest.score_date = explanations.score_date
)

select * from final
