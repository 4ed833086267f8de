-- Feedback measures per account and day: account NPS (% promoters - % detractors), the latest NPS
-- answer, the share of detractors, survey CSAT, and the CSM's latest rating while it has not expired.
-- No answers in the window, no value.
with days as (
    select account_id, score_date from {{ ref('int_account_days_assigned') }}
),

measures as (
    select measure, window_days
    from {{ ref('measures') }}
    where measure in ('nps', 'latest_nps_score', 'detractor_share', 'survey_csat', 'csm_sentiment')
),

windows as (
    select distinct window_days from measures where measure <> 'csm_sentiment'
),

responses as (
    select * from {{ ref('stg_surveys__survey_responses') }}
),

answered as (
    select
        days.account_id,
        days.score_date,
        windows.window_days,
        sum(case when responses.survey_type = 'nps' then 1 else 0 end) as nps_answers,
        sum(case when responses.survey_type = 'nps' and responses.response_score >= 9 then 1 else 0 end)
            as promoters,
        sum(case when responses.survey_type = 'nps' and responses.response_score <= 6 then 1 else 0 end)
            as detractors,
        sum(case when responses.survey_type = 'csat' then responses.response_score end) as csat_total,
        sum(case when responses.survey_type = 'csat' then 1 else 0 end) as csat_answers
    from days
    cross join windows
    left join responses
        on {{ in_window('responses', 'responded_date') }}
    group by days.account_id, days.score_date, windows.window_days
),

latest_nps as (
    select account_id, score_date, window_days, response_score
    from (
        select
            days.account_id,
            days.score_date,
            windows.window_days,
            responses.response_score,
            row_number() over (
                partition by days.account_id, days.score_date, windows.window_days
                order by responses.responded_at desc, responses.response_id desc
            ) as recency
        from days
        cross join windows
        inner join responses
            on responses.account_id = days.account_id
            and responses.survey_type = 'nps'
            and responses.responded_date <= days.score_date
            and responses.responded_date >= {{ window_start('days.score_date', 'windows.window_days') }}
    ) as ranked
    where recency = 1
),

csm_rating as (
    select account_id, score_date, csm_rating
    from (
        select
            days.account_id,
            days.score_date,
            ratings.csm_rating,
            row_number() over (
                partition by days.account_id, days.score_date order by ratings.rated_date desc
            ) as recency
        from days
        inner join {{ ref('stg_manual__csm_ratings') }} as ratings
            on ratings.account_id = days.account_id
            and ratings.rated_date <= days.score_date
            and ratings.expires_date >= days.score_date
    ) as ranked
    where recency = 1
),

computed as (
    select
        days.account_id,
        days.score_date,
        measures.measure,
        case
            when measures.measure = 'nps' and answered.nps_answers > 0
                then 100.0 * cast(answered.promoters - answered.detractors as double) / answered.nps_answers
            when measures.measure = 'detractor_share' and answered.nps_answers > 0
                then cast(answered.detractors as double) / answered.nps_answers
            when measures.measure = 'survey_csat' and answered.csat_answers > 0
                then cast(answered.csat_total as double) / answered.csat_answers
            when measures.measure = 'latest_nps_score' then cast(latest_nps.response_score as double)
            when measures.measure = 'csm_sentiment' then cast(csm_rating.csm_rating as double)
        end as measure_value
    from days
    cross join measures
    left join answered
        on days.account_id = answered.account_id
        and days.score_date = answered.score_date
        and measures.window_days = answered.window_days
    left join latest_nps
        on days.account_id = latest_nps.account_id
        and days.score_date = latest_nps.score_date
        and measures.window_days = latest_nps.window_days
    left join csm_rating
        on days.account_id = csm_rating.account_id
        and days.score_date = csm_rating.score_date
)

select * from computed
