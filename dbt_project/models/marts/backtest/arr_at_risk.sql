-- ARR at risk on the latest scored day, rolled up the ways customer success is organised: the whole
-- portfolio, each segment, each CSM and each health band. Money is summed per currency, and beside it in the
-- reporting currency (converted per account at the day's rate): the rows of a rollup add up to one total.
{{ config(tags=['churn_risk']) }}

with latest as (
    select *
    from {{ ref('account_churn_risk') }}
    where score_date = (select max(score_date) from {{ ref('account_churn_risk') }})
),

rollups as (
    select 'portfolio' as rollup_level, 'all' as rollup_value, latest.* from latest
    union all
    select 'segment' as rollup_level, segment as rollup_value, latest.* from latest
    union all
    select 'csm_owner' as rollup_level, coalesce(csm_owner, 'unassigned') as rollup_value, latest.* from latest
    union all
    select 'health_band' as rollup_level, health_band as rollup_value, latest.* from latest
),

final as (
    select
        rollup_level || '|' || rollup_value || '|' || currency_code as arr_at_risk_id,
        rollup_level,
        rollup_value,
        currency_code,
        max(reporting_currency_code) as reporting_currency_code,
        count(*) as accounts,
        -- Sums of decimal(18, 2) widen differently per engine (DuckDB to 38 digits, Spark by 10): the
        -- contract's type is cast here so both give one.
        cast(sum(arr_amount) as decimal(38, 2)) as arr_amount,
        cast(sum(arr_at_risk_horizon) as decimal(38, 2)) as arr_at_risk_horizon,
        cast(sum(arr_at_risk_renewal) as decimal(38, 2)) as arr_at_risk_renewal,
        cast(sum(arr_reporting_amount) as decimal(38, 2)) as arr_reporting_amount,
        cast(sum(arr_at_risk_horizon_reporting_amount) as decimal(38, 2)) as arr_at_risk_horizon_reporting_amount,
        cast(sum(arr_at_risk_renewal_reporting_amount) as decimal(38, 2)) as arr_at_risk_renewal_reporting_amount,
        -- Summed as decimals: a sum of doubles depends on the order threads add them in, and a refresh of
        -- the same data must give the same figures.
        cast(
            sum(cast(churn_probability_horizon as decimal(18, 12))) / count(churn_probability_horizon)
            as decimal(10, 6)
        ) as average_churn_probability_horizon,
        max(score_date) as score_date
    from rollups
    group by rollup_level, rollup_value, currency_code
)

select * from final
