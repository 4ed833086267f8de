-- The daily health history: one row per account and day from its contract start (or the history start)
-- to the as-of day, or to its last day before a cancellation. The score of day D uses only data dated
-- on or before D, so history can be replayed and backtested. Built incrementally: a build computes the
-- days after the last one stored (minus `reprocess_days` for late exports) and keeps the rest as it was.
-- `--full-refresh` does not rebuild it; `--vars '{rebuild_history: true}'` rescoring everything does.
-- So after a configuration change the stored days keep the version they were scored with, and a 7- or
-- 30-day change reaching back to one of them would mostly measure the new weights, not the account: such
-- a change and its trend stay empty, flagged is_config_changed_7d / _30d (account_score_changes still
-- explains the difference, with its configuration driver). A rebuild scores every day with one version.
{{ config(
    materialized='incremental',
    full_refresh=var('rebuild_history', false),
    on_schema_change='append_new_columns',
    **incremental_replacement('score_date', unique_key=['account_id', 'score_date']),
) }}

with scored as (
    select * from {{ ref('int_account_health_scored') }}
),

config as (
    select distinct config_version from {{ ref('int_scorecard_config_rows') }}
),

-- The account's attributes as the CRM knew them on each day, so questions over time ("ARR by band at the
-- end of last quarter", "a CSM's red accounts in June") need no join.
versions as (
    select * from {{ ref('int_account_versions_recorded') }}
),

exchange_rates as (
    select * from {{ ref('int_exchange_rates_dated') }}
),

-- The scores a change looks back to, with the configuration version each was computed with: this build's
-- own (the current version), else the stored ones.
earlier_scores as (
    select scored.account_id, scored.score_date, scored.health_score, config.config_version
    from scored
    cross join config
    {%- if is_incremental() %}
    union all
    select account_id, score_date, health_score, config_version
    from {{ this }}
    where score_date < (select min(score_date) from scored)
    {%- endif %}
),

compared as (
    select
        scored.*,
        scored.health_score - week_before.health_score as score_difference_7d,
        scored.health_score - month_before.health_score as score_difference_30d,
        case when week_before.health_score is not null then week_before.config_version <> config.config_version end
            as is_config_changed_7d,
        case when month_before.health_score is not null then month_before.config_version <> config.config_version end
            as is_config_changed_30d
    from scored
    cross join config
    left join earlier_scores as week_before
        on scored.account_id = week_before.account_id
        and week_before.score_date = cast({{ dbt.dateadd('day', -7, 'scored.score_date') }} as date)
    left join earlier_scores as month_before
        on scored.account_id = month_before.account_id
        and month_before.score_date = cast({{ dbt.dateadd('day', -30, 'scored.score_date') }} as date)
),

-- A difference across configuration versions is not the account's movement: no change, no trend.
with_changes as (
    select
        compared.*,
        cast(case when not is_config_changed_7d then score_difference_7d end as decimal(10, 6)) as change_7d,
        cast(case when not is_config_changed_30d then score_difference_30d end as decimal(10, 6)) as change_30d
    from compared
),

final as (
    select
        with_changes.account_id || '|' || cast(with_changes.score_date as {{ dbt.type_string() }})
            as account_day_id,
        with_changes.account_id,
        versions.account_name,
        with_changes.segment,
        versions.plan_name,
        versions.country_code,
        versions.currency_code,
        {{ reporting_currency_code() }} as reporting_currency_code,
        versions.csm_owner,
        versions.parent_account_id,
        with_changes.lifecycle_stage,
        with_changes.scorecard,
        bands.band as health_band,
        with_changes.score_status,
        with_changes.status_reason,
        case
            when with_changes.change_30d is null then null
            when with_changes.change_30d >= {{ setting('trend_threshold_points', 'double') }} then 'improving'
            when with_changes.change_30d <= -1 * {{ setting('trend_threshold_points', 'double') }} then 'declining'
            else 'stable'
        end as trend,
        with_changes.weakest_component,
        with_changes.top_driver,
        with_changes.top_driver_reason,
        with_changes.capped_by,
        config.config_version,
        with_changes.health_score,
        with_changes.change_7d,
        with_changes.change_30d,
        with_changes.coverage,
        with_changes.uncapped_score,
        with_changes.cap_adjustment,
        with_changes.usage_score,
        with_changes.support_score,
        with_changes.payment_score,
        with_changes.feedback_score,
        with_changes.milestones_score,
        with_changes.usage_contribution,
        with_changes.support_contribution,
        with_changes.payment_contribution,
        with_changes.feedback_contribution,
        with_changes.milestones_contribution,
        versions.arr_amount,
        {{ to_reporting_currency('versions.arr_amount', 'exchange_rates') }} as arr_reporting_amount,
        versions.licensed_seats,
        with_changes.is_config_changed_7d,
        with_changes.is_config_changed_30d,
        versions.contract_start_date,
        versions.renewal_date,
        with_changes.score_date,
        cast({{ dbt.current_timestamp() }} as timestamp) as scored_at
    from with_changes
    cross join config
    left join versions
        on with_changes.account_id = versions.account_id
        and {{ version_valid_on('versions', 'with_changes.score_date') }}
    left join exchange_rates
        on versions.currency_code = exchange_rates.currency_code
        and {{ exchange_rate_valid_on('exchange_rates', 'with_changes.score_date') }}
    left join {{ ref('health_bands') }} as bands
        on with_changes.health_score >= bands.min_score
        and (with_changes.health_score < bands.max_score
            or (bands.max_score = 100 and with_changes.health_score = 100))
)

select * from final
