-- The one place amounts change currency: for each currency, the periods in which both its own rate and the
-- reporting currency's rate stay the same, with the factor that turns an amount of it into the reporting
-- currency. Every conversion crosses through the euro (seeds/exchange_rates.csv states units per euro), so
-- any currency with rates can be the reporting currency. Marts join it with `exchange_rate_valid_on` and
-- convert with `to_reporting_currency` (macros/currency.sql).
with rates as (
    select * from {{ ref('exchange_rates') }}
),

reporting as (
    select {{ reporting_currency_code() }}
        as reporting_currency_code
),

-- Each rate row with the day before the currency's next one: the days it holds.
rate_periods as (
    select
        currency_code,
        units_per_eur,
        valid_from_date,
        lead(valid_from_date) over (partition by currency_code order by valid_from_date) as next_valid_from_date
    from rates
),

reporting_rate_periods as (
    select rate_periods.*
    from rate_periods
    inner join reporting
        on rate_periods.currency_code = reporting.reporting_currency_code
),

-- A currency's converted amounts change when its own rate or the reporting currency's rate changes.
period_starts as (
    select currency_code, valid_from_date
    from rates
    union
    select first_rates.currency_code, reporting_rate_periods.valid_from_date
    from (
        select currency_code, min(valid_from_date) as first_valid_from_date
        from rates
        group by currency_code
    ) as first_rates
    cross join reporting_rate_periods
    where reporting_rate_periods.valid_from_date > first_rates.first_valid_from_date
),

periods as (
    select
        currency_code,
        valid_from_date,
        lead(valid_from_date) over (partition by currency_code order by valid_from_date) as next_valid_from_date
    from period_starts
),

rated as (
    select
        periods.currency_code,
        reporting.reporting_currency_code,
        own.units_per_eur,
        reported.units_per_eur as reporting_units_per_eur,
        periods.valid_from_date,
        periods.next_valid_from_date
    from periods
    cross join reporting
    inner join rate_periods as own
        on periods.currency_code = own.currency_code
        and periods.valid_from_date >= own.valid_from_date
        and (own.next_valid_from_date is null or periods.valid_from_date < own.next_valid_from_date)
    -- Before the reporting currency's first rate nothing converts: the factor stays empty (and tests fail).
    left join reporting_rate_periods as reported
        on periods.valid_from_date >= reported.valid_from_date
        and (reported.next_valid_from_date is null or periods.valid_from_date < reported.next_valid_from_date)
),

final as (
    select
        currency_code || '|' || cast(valid_from_date as {{ dbt.type_string() }}) as exchange_rate_id,
        currency_code,
        reporting_currency_code,
        units_per_eur,
        reporting_units_per_eur,
        reporting_units_per_eur / units_per_eur as reporting_rate,
        valid_from_date,
        cast({{ dbt.dateadd('day', -1, 'next_valid_from_date') }} as date) as valid_to_date
    from rated
)

select * from final
