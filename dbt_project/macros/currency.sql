{#- Join condition: the row `rates` of intermediate.int_exchange_rates_dated is the one valid on `day` (same
    currency is the caller's other condition). A period holds from `valid_from_date` to `valid_to_date`, open
    while it is the currency's latest. -#}
{% macro exchange_rate_valid_on(rates, day) %}
    {{ day }} >= {{ rates }}.valid_from_date
    and ({{ rates }}.valid_to_date is null or {{ day }} <= {{ rates }}.valid_to_date)
{%- endmacro %}

{#- An amount in its own currency, in the reporting currency at the rate of the joined `rates` row, to the cent:
    rounded per amount, so sums of converted amounts add up exactly however they are grouped. -#}
{% macro to_reporting_currency(amount, rates) %}
    cast(cast({{ amount }} as double) * {{ rates }}.reporting_rate as decimal(18, 2))
{%- endmacro %}

{#- The reporting currency (seeds/currency_settings.csv), as a scalar subquery. -#}
{% macro reporting_currency_code() %}
    {{ seed_setting('currency_settings', 'reporting_currency_code', dbt.type_string()) }}
{%- endmacro %}
