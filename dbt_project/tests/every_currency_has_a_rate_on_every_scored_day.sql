-- Guards the conversion: every currency an account had on a day of the history this build scored, and the
-- reporting currency, has a rate valid on that day (seeds/exchange_rates.csv), so no converted amount is empty.
with scored_days as (
    select distinct score_date
    from {{ ref('account_health_history') }}
    where score_date >= (
        select min(score_date) from {{ ref('int_account_days_assigned') }} where is_history_day
    )
),

-- The currency of each account version, on each scored day the version was valid.
currency_days as (
    select distinct versions.currency_code, scored_days.score_date
    from {{ ref('int_account_versions_recorded') }} as versions
    inner join scored_days
        on {{ version_valid_on('versions', 'scored_days.score_date') }}
    union
    select {{ reporting_currency_code() }} as currency_code, score_date
    from scored_days
),

validation_errors as (
    select currency_days.currency_code, currency_days.score_date
    from currency_days
    left join {{ ref('int_exchange_rates_dated') }} as rates
        on currency_days.currency_code = rates.currency_code
        and {{ exchange_rate_valid_on('rates', 'currency_days.score_date') }}
        and rates.reporting_rate is not null
    where rates.currency_code is null
)

select * from validation_errors
