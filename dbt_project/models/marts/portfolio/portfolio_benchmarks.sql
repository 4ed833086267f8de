-- The latest scored day's portfolio figures rated against the reference ranges of seeds/benchmarks.csv:
-- one row per benchmark for the whole portfolio (segment `all`) and for each segment. A value falls into
-- the range with lower_bound <= value < upper_bound (empty = open); without a value the rating is 'no
-- data', without a matching range 'no benchmark', and neither is unexpected. The benchmark checks only
-- read this table, so the figures are computed once, in marts.portfolio_daily.
{%- set benchmark_columns = {
    'portfolio_nps': ('nps', 'nps_response_count'),
    'monthly_churn_rate': ('monthly_churn_rate', 'churn_cohort_account_count'),
    'average_health_score': ('average_health_score', 'account_count'),
    'ticket_csat': ('ticket_csat', 'csat_response_count'),
    'red_account_share': ('red_share', 'account_count'),
} %}

with latest as (
    select *
    from {{ ref('portfolio_daily') }}
    where score_date = (select max(score_date) from {{ ref('portfolio_daily') }})
      and dimension in ('portfolio', 'segment')
),

figures as (
    {%- for benchmark, (value_column, count_column) in benchmark_columns.items() %}
    select
        '{{ benchmark }}' as benchmark,
        case when dimension = 'portfolio' then 'all' else dimension_value end as segment,
        cast({{ value_column }} as double) as value,
        {{ count_column }} as observation_count,
        score_date
    from latest
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

ranges as (
    select * from {{ ref('benchmarks') }}
),

rated as (
    select
        figures.benchmark,
        figures.segment,
        case
            when figures.value is null then 'no data'
            when ranges.benchmark is null then 'no benchmark'
            else ranges.rating
        end as rating,
        figures.value,
        ranges.lower_bound,
        ranges.upper_bound,
        figures.observation_count,
        coalesce(ranges.is_expected, true) as is_expected,
        figures.score_date
    from figures
    left join ranges
        on figures.benchmark = ranges.benchmark
        and figures.segment = ranges.segment
        and (ranges.lower_bound is null or figures.value >= ranges.lower_bound)
        and (ranges.upper_bound is null or figures.value < ranges.upper_bound)
),

final as (
    select
        benchmark || '|' || segment as portfolio_benchmark_id,
        *
    from rated
)

select * from final
