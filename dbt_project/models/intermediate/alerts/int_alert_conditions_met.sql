-- One row per account, enabled alert rule and day on which the rule's condition held. Only days with the
-- condition are kept (a few percent of the account-days), so grouping them into episodes stays cheap at
-- volume. Read point in time from the daily history and the measure values behind it: a day's condition
-- uses only what that day's score knew. How each rule reads its threshold is documented in
-- seeds/_actions__seeds.yml and docs/alerts_and_actions.md.
with rules as (
    select rule, threshold from {{ ref('alert_rules') }} where is_enabled
),

history as (
    select account_id, health_band, change_7d, score_date
    from {{ ref('account_health_history') }}
),

-- The four rules that watch one measure each; the other measures are never read.
measure_values as (
    select account_id, measure, measure_value, score_date
    from {{ ref('int_account_measure_contributions') }}
    where measure in ('active_users_trend', 'max_days_overdue', 'latest_nps_score', 'csm_sentiment')
      and measure_value is not null
),

entered_red as (
    select
        history.account_id,
        rules.rule,
        cast(null as {{ dbt.type_string() }}) as driver,
        cast(null as {{ dbt.type_float() }}) as observed_value,
        cast(null as date) as renewal_date,
        history.score_date
    from history
    inner join rules
        on rules.rule = 'entered_red'
    -- The rule is named for the band: a red day is a day of the episode.
    where history.health_band = 'red'
),

score_drops as (
    select
        history.account_id,
        rules.rule,
        cast(null as {{ dbt.type_string() }}) as driver,
        cast(history.change_7d as {{ dbt.type_float() }}) as observed_value,
        cast(null as date) as renewal_date,
        history.score_date
    from history
    inner join rules
        on rules.rule = 'score_drop'
    where history.change_7d <= -1 * rules.threshold
),

measure_rules as (
    select
        measure_values.account_id,
        rules.rule,
        measure_values.measure as driver,
        measure_values.measure_value as observed_value,
        cast(null as date) as renewal_date,
        measure_values.score_date
    from measure_values
    inner join rules
        on (rules.rule = 'usage_drop' and measure_values.measure = 'active_users_trend'
            and measure_values.measure_value <= -1 * rules.threshold)
        or (rules.rule = 'invoice_overdue' and measure_values.measure = 'max_days_overdue'
            and measure_values.measure_value > rules.threshold)
        or (rules.rule = 'detractor_nps' and measure_values.measure = 'latest_nps_score'
            and measure_values.measure_value <= rules.threshold)
        or (rules.rule = 'low_csm_rating' and measure_values.measure = 'csm_sentiment'
            and measure_values.measure_value <= rules.threshold)
),

-- The renewal date as known on the day: the CRM's, once the CRM export that said so had been recorded and
-- while it lies ahead; otherwise the next contract anniversary (the rule the lifecycle stage uses). Before
-- the first recorded export the CRM's date is a later renewal, not the one the account was heading for.
unhealthy_days as (
    select history.account_id, history.score_date
    from history
    where history.health_band <> {{ alert_setting('healthy_band') }}
),

renewal_days as (
    select
        unhealthy_days.account_id,
        unhealthy_days.score_date,
        case
            when unhealthy_days.score_date >= versions.valid_from_date
                and versions.renewal_date >= unhealthy_days.score_date
                then versions.renewal_date
            else cast({{ dbt.dateadd(
                'year',
                '(cast(floor(' ~ dbt.datediff('versions.contract_start_date', 'unhealthy_days.score_date', 'day')
                    ~ ' / 365.25) as integer) + 1)',
                'versions.contract_start_date'
            ) }} as date)
        end as renewal_date
    from unhealthy_days
    inner join {{ ref('dim_account_versions') }} as versions
        on unhealthy_days.account_id = versions.account_id
        and {{ version_valid_on('versions', 'unhealthy_days.score_date') }}
),

renewals_at_risk as (
    select
        renewal_days.account_id,
        rules.rule,
        cast(null as {{ dbt.type_string() }}) as driver,
        cast({{ dbt.datediff('renewal_days.score_date', 'renewal_days.renewal_date', 'day') }} as {{ dbt.type_float() }})
            as observed_value,
        renewal_days.renewal_date,
        renewal_days.score_date
    from renewal_days
    inner join rules
        on rules.rule = 'renewal_at_risk'
    where {{ dbt.datediff('renewal_days.score_date', 'renewal_days.renewal_date', 'day') }} <= rules.threshold
),

unioned as (
    select * from entered_red
    union all
    select * from score_drops
    union all
    select * from measure_rules
    union all
    select * from renewals_at_risk
)

select * from unioned
