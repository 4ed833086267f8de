-- Guards against a broken feed, which looks like a mass churn event: from the day before to the last scored day the portfolio's average score and its share of accounts in the lowest band move at most the limits in seeds/check_settings.csv, and the scores do not all vanish overnight.
{{ config(meta={'dagster': {'ref': {'name': 'account_health_history'}}}) }}

with last_day as (
    select max(score_date) as score_date from {{ ref('account_health_history') }}
),

lowest_band as (
    select band
    from {{ ref('health_bands') }}
    where min_score = (select min(min_score) from {{ ref('health_bands') }})
),

daily as (
    select
        history.score_date,
        count(history.health_score) as scored_accounts,
        avg(history.health_score) as average_score,
        avg(
            case
                when history.health_score is null then null
                when history.health_band in (select band from lowest_band) then 1.0
                else 0.0
            end
        ) as lowest_band_share
    from {{ ref('account_health_history') }} as history
    cross join last_day
    where history.score_date >= cast({{ dbt.dateadd('day', -1, 'last_day.score_date') }} as date)
    group by history.score_date
),

limits as (
    select
        {{ seed_setting('check_settings', 'max_daily_average_shift_points') }} as max_average_shift_points,
        {{ seed_setting('check_settings', 'max_daily_red_share_shift') }} as max_lowest_band_share_shift
),

compared as (
    select
        today.score_date,
        today.scored_accounts,
        previous.scored_accounts as previously_scored_accounts,
        today.average_score,
        previous.average_score as previous_average_score,
        today.average_score - previous.average_score as average_shift_points,
        today.lowest_band_share,
        previous.lowest_band_share as previous_lowest_band_share,
        today.lowest_band_share - previous.lowest_band_share as lowest_band_share_shift
    from daily as today
    inner join daily as previous
        on previous.score_date = cast({{ dbt.dateadd('day', -1, 'today.score_date') }} as date)
),

validation_errors as (
    select
        compared.*,
        limits.max_average_shift_points,
        limits.max_lowest_band_share_shift,
        case
            when limits.max_average_shift_points is null or limits.max_lowest_band_share_shift is null
                then 'seeds/check_settings.csv lacks max_daily_average_shift_points or max_daily_red_share_shift'
            when compared.scored_accounts = 0 then 'no account has a score on the last day; some had one the day before'
            when abs(compared.average_shift_points) > limits.max_average_shift_points
                then 'the average score moved more than max_daily_average_shift_points'
            else 'the share of the lowest band moved more than max_daily_red_share_shift'
        end as problem
    from compared
    cross join limits
    where limits.max_average_shift_points is null
       or limits.max_lowest_band_share_shift is null
       or (compared.scored_accounts = 0 and compared.previously_scored_accounts > 0)
       or abs(compared.average_shift_points) > limits.max_average_shift_points
       or abs(compared.lowest_band_share_shift) > limits.max_lowest_band_share_shift
)

select * from validation_errors
