-- Guards the alert settings whose value is not free text: the delivery look-back and the days an alert
-- takes to clear are whole numbers of days from 1, and the healthy band is a band of health_bands.
with settings as (
    select * from {{ ref('alert_settings') }}
),

validation_errors as (
    select setting, value, 'not a whole number of days from 1' as reason
    from settings
    where setting in ('alert_delivery_lookback_days', 'alert_clear_after_days')
      and coalesce({{ dbt.safe_cast('value', api.Column.translate_type('integer')) }} >= 1, false) = false
    union all
    select setting, value, 'not a band of health_bands' as reason
    from settings
    where setting = 'healthy_band'
      and value not in (select band from {{ ref('health_bands') }})
)

select * from validation_errors
