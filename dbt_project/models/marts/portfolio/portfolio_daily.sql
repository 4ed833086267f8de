-- The portfolio's figures day by day, for the whole portfolio and by segment, customer-success manager and
-- scorecard: accounts, average and median health, band counts and shares, ARR and ARR at risk in the
-- reporting currency, NPS, ticket CSAT, monthly churn and net revenue retention. The one home of these
-- figures: BI reads them here and the benchmark checks read marts.portfolio_benchmarks, built from it.
-- Day figures (accounts, health, bands, ARR) describe the customers scored that day. Window figures (NPS,
-- CSAT, churn) cover the `benchmark_window_days` (seeds/check_settings.csv) ending on the day, each answer,
-- ticket or cancellation counted in the group its account was in when it happened (churn: at the window's
-- start); net revenue retention compares with the same day a year earlier. Like the history it summarises,
-- it is incremental: a build deletes and recomputes the days the history (re)scored in it.
-- dbt cannot see the reference in the pre-hook's is_incremental() branch; an incremental build needs it declared:
-- depends_on: {{ ref('int_account_health_scored') }}
{{ config(
    materialized='incremental',
    full_refresh=var('rebuild_history', false),
    on_schema_change='append_new_columns',
    **incremental_replacement(
        'score_date', deleted_where="score_date >= (select min(score_date) from {{ ref('int_account_health_scored') }})"
    ),
) }}

{%- set window_days = seed_setting('check_settings', 'benchmark_window_days', 'integer') %}

with history as (
    select account_id, segment, scorecard, health_band, health_score, score_date
    from {{ ref('account_health_history') }}
),

-- The days this build writes: those the history (re)scored in it, or all of them on a first build.
build_days as (
    select distinct score_date
    from history
    {%- if is_incremental() %}
    where score_date >= (select min(score_date) from {{ ref('int_account_health_scored') }})
    {%- endif %}
),

accounts as (
    select account_id, contract_start_date from {{ ref('stg_crm__accounts') }}
),

cancellations as (
    select * from {{ ref('int_account_cancellations_dated') }}
),

versions as (
    select * from {{ ref('int_account_versions_recorded') }}
),

exchange_rates as (
    select * from {{ ref('int_exchange_rates_dated') }}
),

-- Day figures: each customer scored (or not) on a day, with its CSM and its ARR at the day's rate.
account_days as (
    select
        history.account_id,
        coalesce(history.segment, 'unassigned') as segment,
        coalesce(versions.csm_owner, 'unassigned') as csm_owner,
        history.scorecard,
        history.health_band,
        history.health_score,
        {{ to_reporting_currency('versions.arr_amount', 'exchange_rates') }} as arr_reporting_amount,
        history.score_date
    from history
    inner join build_days
        on history.score_date = build_days.score_date
    left join versions
        on history.account_id = versions.account_id
        and {{ version_valid_on('versions', 'history.score_date') }}
    left join exchange_rates
        on versions.currency_code = exchange_rates.currency_code
        and {{ exchange_rate_valid_on('exchange_rates', 'history.score_date') }}
),

account_days_by_dimension as (
    {{ by_portfolio_dimension('account_days') }}
),

day_figures as (
    select
        score_date,
        dimension,
        dimension_value,
        count(health_score) as account_count,
        count(*) - count(health_score) as unscored_account_count,
        -- Summed as decimals: a sum of doubles depends on the order threads add them in.
        sum(health_score) as total_health_score,
        cast(sum(health_score) / count(health_score) as decimal(10, 6)) as average_health_score,
        cast({{ median('health_score') }} as decimal(10, 6)) as median_health_score,
        count(case when health_band = 'green' then 1 end) as green_account_count,
        count(case when health_band = 'yellow' then 1 end) as yellow_account_count,
        count(case when health_band = 'red' then 1 end) as red_account_count,
        coalesce(sum(arr_reporting_amount), 0) as arr_reporting_amount,
        coalesce(sum(case when health_band = 'red' then arr_reporting_amount end), 0) as arr_at_risk_reporting_amount,
        coalesce(sum(case when health_band = 'yellow' then arr_reporting_amount end), 0) as yellow_arr_reporting_amount
    from account_days_by_dimension
    group by score_date, dimension, dimension_value
),

-- The group an account was in on any day: segment and CSM from the CRM version valid that day, the
-- scorecard from the history (unknown on days the account was not scored, e.g. before the history starts).
{%- set group_on_day -%}
        coalesce(versions.segment, 'unassigned') as segment,
        coalesce(versions.csm_owner, 'unassigned') as csm_owner,
        scored.scorecard
{%- endset %}

-- Window figures: NPS answers and rated tickets of the days any built day's window reaches.
window_bounds as (
    select
        cast({{ dbt.dateadd('day', '(1 - ' ~ window_days ~ ')', 'min(score_date)') }} as date) as first_date,
        max(score_date) as last_date
    from build_days
),

nps_answers as (
    select
        answers.account_id,
        {{ group_on_day }},
        -- The NPS definition: 9-10 promoters, 0-6 detractors.
        case when answers.response_score >= 9 then 1 else 0 end as is_promoter,
        case when answers.response_score <= 6 then 1 else 0 end as is_detractor,
        answers.responded_date as event_date
    from {{ ref('stg_surveys__survey_responses') }} as answers
    cross join window_bounds
    left join versions
        on answers.account_id = versions.account_id
        and {{ version_valid_on('versions', 'answers.responded_date') }}
    left join history as scored
        on answers.account_id = scored.account_id
        and answers.responded_date = scored.score_date
    where answers.survey_type = 'nps'
      and answers.response_score is not null
      and answers.responded_date between window_bounds.first_date and window_bounds.last_date
),

rated_tickets as (
    select
        tickets.account_id,
        {{ group_on_day }},
        -- Satisfied: a rating of 4 or 5 out of 5.
        case when tickets.csat_rating >= 4 then 1 else 0 end as is_satisfied,
        tickets.resolved_date as event_date
    from {{ ref('stg_helpdesk__support_tickets') }} as tickets
    cross join window_bounds
    left join versions
        on tickets.account_id = versions.account_id
        and {{ version_valid_on('versions', 'tickets.resolved_date') }}
    left join history as scored
        on tickets.account_id = scored.account_id
        and tickets.resolved_date = scored.score_date
    where tickets.csat_rating is not null
      and tickets.resolved_date between window_bounds.first_date and window_bounds.last_date
),

nps_days as (
    select event_date, dimension, dimension_value,
        count(*) as response_count, sum(is_promoter) as promoter_count, sum(is_detractor) as detractor_count
    from ({{ by_portfolio_dimension('nps_answers') }}) as answers
    group by event_date, dimension, dimension_value
),

csat_days as (
    select event_date, dimension, dimension_value,
        count(*) as response_count, sum(is_satisfied) as satisfied_count
    from ({{ by_portfolio_dimension('rated_tickets') }}) as tickets
    group by event_date, dimension, dimension_value
),

nps_figures as (
    select
        build_days.score_date,
        nps_days.dimension,
        nps_days.dimension_value,
        sum(nps_days.response_count) as nps_response_count,
        sum(nps_days.promoter_count) as nps_promoter_count,
        sum(nps_days.detractor_count) as nps_detractor_count
    from build_days
    inner join nps_days
        on nps_days.event_date <= build_days.score_date
        and nps_days.event_date >= {{ window_start('build_days.score_date', window_days) }}
    group by build_days.score_date, nps_days.dimension, nps_days.dimension_value
),

csat_figures as (
    select
        build_days.score_date,
        csat_days.dimension,
        csat_days.dimension_value,
        sum(csat_days.response_count) as csat_response_count,
        sum(csat_days.satisfied_count) as csat_satisfied_count
    from build_days
    inner join csat_days
        on csat_days.event_date <= build_days.score_date
        and csat_days.event_date >= {{ window_start('build_days.score_date', window_days) }}
    group by build_days.score_date, csat_days.dimension, csat_days.dimension_value
),

-- Monthly churn: of the accounts that were customers on the day before the window, the share that
-- cancelled within it, scaled to 30 days; each in the group it was in on that day.
churn_cohorts as (
    select
        build_days.score_date,
        accounts.account_id,
        cast({{ dbt.dateadd('day', '(-1 * ' ~ window_days ~ ')', 'build_days.score_date') }} as date) as cohort_date,
        case when cancellations.churned_date <= build_days.score_date then 1 else 0 end as is_cancelled
    from build_days
    cross join accounts
    left join cancellations
        on accounts.account_id = cancellations.account_id
    where accounts.contract_start_date
            <= cast({{ dbt.dateadd('day', '(-1 * ' ~ window_days ~ ')', 'build_days.score_date') }} as date)
      and (cancellations.churned_date is null
        or cancellations.churned_date
            > cast({{ dbt.dateadd('day', '(-1 * ' ~ window_days ~ ')', 'build_days.score_date') }} as date))
),

churn_members as (
    select
        churn_cohorts.score_date,
        {{ group_on_day }},
        churn_cohorts.is_cancelled
    from churn_cohorts
    left join versions
        on churn_cohorts.account_id = versions.account_id
        and {{ version_valid_on('versions', 'churn_cohorts.cohort_date') }}
    left join history as scored
        on churn_cohorts.account_id = scored.account_id
        and churn_cohorts.cohort_date = scored.score_date
),

churn_figures as (
    select
        score_date,
        dimension,
        dimension_value,
        count(*) as churn_cohort_account_count,
        sum(is_cancelled) as churn_cancelled_count
    from ({{ by_portfolio_dimension('churn_members') }}) as members
    group by score_date, dimension, dimension_value
),

-- Net revenue retention: the customers of the same day a year earlier, their ARR then against their ARR
-- on the day (nothing once cancelled), both at the day's rates so that exchange rates do not pass for
-- retention; each in the group it was in a year earlier.
retention_cohorts as (
    select
        build_days.score_date,
        accounts.account_id,
        cast({{ dbt.dateadd('year', -1, 'build_days.score_date') }} as date) as cohort_date,
        coalesce(cancellations.churned_date <= build_days.score_date, false) as is_cancelled
    from build_days
    cross join accounts
    left join cancellations
        on accounts.account_id = cancellations.account_id
    where accounts.contract_start_date <= cast({{ dbt.dateadd('year', -1, 'build_days.score_date') }} as date)
      and (cancellations.churned_date is null
        or cancellations.churned_date > cast({{ dbt.dateadd('year', -1, 'build_days.score_date') }} as date))
),

retention_members as (
    select
        retention_cohorts.score_date,
        {{ group_on_day }},
        {{ to_reporting_currency('versions.arr_amount', 'starting_rates') }} as starting_arr_reporting_amount,
        case
            when retention_cohorts.is_cancelled then 0
            else {{ to_reporting_currency('current_versions.arr_amount', 'current_rates') }}
        end as retained_arr_reporting_amount
    from retention_cohorts
    left join versions
        on retention_cohorts.account_id = versions.account_id
        and {{ version_valid_on('versions', 'retention_cohorts.cohort_date') }}
    left join history as scored
        on retention_cohorts.account_id = scored.account_id
        and retention_cohorts.cohort_date = scored.score_date
    left join exchange_rates as starting_rates
        on versions.currency_code = starting_rates.currency_code
        and {{ exchange_rate_valid_on('starting_rates', 'retention_cohorts.score_date') }}
    left join versions as current_versions
        on retention_cohorts.account_id = current_versions.account_id
        and {{ version_valid_on('current_versions', 'retention_cohorts.score_date') }}
    left join exchange_rates as current_rates
        on current_versions.currency_code = current_rates.currency_code
        and {{ exchange_rate_valid_on('current_rates', 'retention_cohorts.score_date') }}
),

retention_figures as (
    select
        score_date,
        dimension,
        dimension_value,
        sum(starting_arr_reporting_amount) as nrr_starting_arr_reporting_amount,
        sum(retained_arr_reporting_amount) as nrr_retained_arr_reporting_amount
    from ({{ by_portfolio_dimension('retention_members') }}) as members
    group by score_date, dimension, dimension_value
),

-- Every group with any figure on a day: a CSM whose accounts all left still owns the answers of the window.
group_days as (
    select score_date, dimension, dimension_value from day_figures
    union
    select score_date, dimension, dimension_value from nps_figures
    union
    select score_date, dimension, dimension_value from csat_figures
    union
    select score_date, dimension, dimension_value from churn_figures
    union
    select score_date, dimension, dimension_value from retention_figures
),

final as (
    select
        group_days.dimension || '|' || group_days.dimension_value || '|'
            || cast(group_days.score_date as {{ dbt.type_string() }}) as portfolio_day_id,
        group_days.dimension,
        group_days.dimension_value,
        {{ reporting_currency_code() }} as reporting_currency_code,
        cast(coalesce(day_figures.account_count, 0) as {{ dbt.type_int() }}) as account_count,
        cast(coalesce(day_figures.unscored_account_count, 0) as {{ dbt.type_int() }}) as unscored_account_count,
        day_figures.average_health_score,
        day_figures.median_health_score,
        cast(coalesce(day_figures.total_health_score, 0) as decimal(18, 6)) as total_health_score,
        cast(coalesce(day_figures.green_account_count, 0) as {{ dbt.type_int() }}) as green_account_count,
        cast(coalesce(day_figures.yellow_account_count, 0) as {{ dbt.type_int() }}) as yellow_account_count,
        cast(coalesce(day_figures.red_account_count, 0) as {{ dbt.type_int() }}) as red_account_count,
        cast(1.0 * day_figures.green_account_count / nullif(day_figures.account_count, 0) as double) as green_share,
        cast(1.0 * day_figures.yellow_account_count / nullif(day_figures.account_count, 0) as double) as yellow_share,
        cast(1.0 * day_figures.red_account_count / nullif(day_figures.account_count, 0) as double) as red_share,
        cast(coalesce(day_figures.arr_reporting_amount, 0) as decimal(18, 2)) as arr_reporting_amount,
        cast(coalesce(day_figures.arr_at_risk_reporting_amount, 0) as decimal(18, 2)) as arr_at_risk_reporting_amount,
        cast(coalesce(day_figures.yellow_arr_reporting_amount, 0) as decimal(18, 2)) as yellow_arr_reporting_amount,
        cast(
            100.0 * (nps_figures.nps_promoter_count - nps_figures.nps_detractor_count)
            / nullif(nps_figures.nps_response_count, 0)
            as double
        ) as nps,
        cast(coalesce(nps_figures.nps_response_count, 0) as {{ dbt.type_int() }}) as nps_response_count,
        cast(coalesce(nps_figures.nps_promoter_count, 0) as {{ dbt.type_int() }}) as nps_promoter_count,
        cast(coalesce(nps_figures.nps_detractor_count, 0) as {{ dbt.type_int() }}) as nps_detractor_count,
        cast(1.0 * csat_figures.csat_satisfied_count / nullif(csat_figures.csat_response_count, 0) as double)
            as ticket_csat,
        cast(coalesce(csat_figures.csat_response_count, 0) as {{ dbt.type_int() }}) as csat_response_count,
        cast(coalesce(csat_figures.csat_satisfied_count, 0) as {{ dbt.type_int() }}) as csat_satisfied_count,
        cast(
            1.0 * churn_figures.churn_cancelled_count / nullif(churn_figures.churn_cohort_account_count, 0)
            * 30 / {{ window_days }}
            as double
        ) as monthly_churn_rate,
        cast(coalesce(churn_figures.churn_cohort_account_count, 0) as {{ dbt.type_int() }}) as churn_cohort_account_count,
        cast(coalesce(churn_figures.churn_cancelled_count, 0) as {{ dbt.type_int() }}) as churn_cancelled_count,
        cast(
            retention_figures.nrr_retained_arr_reporting_amount
            / nullif(retention_figures.nrr_starting_arr_reporting_amount, 0)
            as double
        ) as net_revenue_retention,
        cast(coalesce(retention_figures.nrr_starting_arr_reporting_amount, 0) as decimal(18, 2)) as nrr_starting_arr_reporting_amount,
        cast(coalesce(retention_figures.nrr_retained_arr_reporting_amount, 0) as decimal(18, 2)) as nrr_retained_arr_reporting_amount,
        cast({{ window_days }} as {{ dbt.type_int() }}) as benchmark_window_days,
        group_days.score_date,
        cast({{ dbt.current_timestamp() }} as timestamp) as scored_at
    from group_days
    left join day_figures
        on group_days.score_date = day_figures.score_date
        and group_days.dimension = day_figures.dimension
        and group_days.dimension_value = day_figures.dimension_value
    left join nps_figures
        on group_days.score_date = nps_figures.score_date
        and group_days.dimension = nps_figures.dimension
        and group_days.dimension_value = nps_figures.dimension_value
    left join csat_figures
        on group_days.score_date = csat_figures.score_date
        and group_days.dimension = csat_figures.dimension
        and group_days.dimension_value = csat_figures.dimension_value
    left join churn_figures
        on group_days.score_date = churn_figures.score_date
        and group_days.dimension = churn_figures.dimension
        and group_days.dimension_value = churn_figures.dimension_value
    left join retention_figures
        on group_days.score_date = retention_figures.score_date
        and group_days.dimension = retention_figures.dimension
        and group_days.dimension_value = retention_figures.dimension_value
)

select * from final
