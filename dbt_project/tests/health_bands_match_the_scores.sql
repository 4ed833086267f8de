-- Guards the band of every score this build wrote: it is the band of seeds/health_bands.csv whose range holds the score (min_score <= score < max_score, the top band including 100), and no band without a score.
{{ config(meta={'dagster': {'ref': {'name': 'account_health_history'}}}) }}

with scored_days as (
    select min(score_date) as first_score_date
    from {{ ref('int_account_days_assigned') }}
    where is_history_day
),

top_band as (
    select max(max_score) as max_score from {{ ref('health_bands') }}
),

validation_errors as (
    select
        history.account_id,
        history.score_date,
        history.health_score,
        history.health_band,
        bands.band as expected_band
    from {{ ref('account_health_history') }} as history
    cross join top_band
    left join {{ ref('health_bands') }} as bands
        on history.health_score >= bands.min_score
        and (
            history.health_score < bands.max_score
            or (bands.max_score = top_band.max_score and history.health_score = top_band.max_score)
        )
    where history.score_date >= (select first_score_date from scored_days)
      and (
        (history.health_band is null and bands.band is not null)
        or (history.health_band is not null and bands.band is null)
        or history.health_band <> bands.band
      )
)

select * from validation_errors
