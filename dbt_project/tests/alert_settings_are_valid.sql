-- Guards the alert settings: each is set, the delivery look-back and the days an alert takes to clear are
-- whole numbers of days from 1, and the healthy band is a band of health_bands.
with settings as (
    select * from {{ ref('alert_settings') }}
),

required as (
    select 'alert_delivery_lookback_days' as setting
    union all
    select 'alert_clear_after_days'
    union all
    select 'healthy_band'
),

validation_errors as (
    select
        required.setting,
        cast(null as {{ dbt.type_string() }}) as value,
        'seeds/alert_settings.csv: setting ' || required.setting || ' is missing' as problem
    from required
    where required.setting not in (select setting from settings)
    union all
    select
        setting,
        value,
        'seeds/alert_settings.csv: setting ' || setting || ' is ' || {{ value_text('value', is_number=false) }}
            || ', not a whole number of days from 1' as problem
    from settings
    where setting in ('alert_delivery_lookback_days', 'alert_clear_after_days')
      and coalesce({{ dbt.safe_cast('value', api.Column.translate_type('integer')) }} >= 1, false) = false
    union all
    select
        setting,
        value,
        'seeds/alert_settings.csv: setting ' || setting || ' is ' || {{ value_text('value', is_number=false) }}
            || ', not a band of seeds/health_bands.csv' as problem
    from settings
    where setting = 'healthy_band'
      and value not in (select band from {{ ref('health_bands') }})
)

select * from validation_errors
