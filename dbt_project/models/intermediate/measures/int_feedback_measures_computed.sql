-- Feedback measures per account and day: account NPS (% promoters - % detractors), the latest NPS
-- answer, the share of detractors, survey CSAT, the average sentiment of the answers' comments, and the
-- CSM's latest rating while it has not expired. No answers (or, for comment sentiment, no scored comments)
-- in the window, no value. Answer counts and the sum of comment sentiments are running totals of each
-- answer's days in a window (macro running_totals); sentiments are decimals, so the sum is exact and the
-- average reproducible. The latest answer is the newest one on or before the day, if it is still in the
-- window; a CSM rating is joined to the days it is valid. Only numbers leave this model, never a comment.
with days as (
    select account_id, score_date from {{ ref('int_account_days_assigned') }}
),

measures as (
    select measure, window_days
    from {{ ref('measures') }}
    where measure in {{ family_measure_list('feedback') }}
),

windows as (
    select distinct window_days from measures where measure <> 'csm_sentiment'
),

responses as (
    select * from {{ ref('stg_surveys__survey_responses') }}
),

windowed_responses as (
    select
        responses.*,
        windows.window_days,
        cast({{ dbt.dateadd('day', '(windows.window_days - 1)', 'responses.responded_date') }} as date)
            as last_window_date
    from responses
    cross join windows
),

changes as (
    {{ range_changes(
        'windowed_responses',
        'responded_date',
        'last_window_date',
        {
            'nps_answers': "case when survey_type = 'nps' then 1 else 0 end",
            'promoters': "case when survey_type = 'nps' and response_score >= 9 then 1 else 0 end",
            'detractors': "case when survey_type = 'nps' and response_score <= 6 then 1 else 0 end",
            'csat_total': "case when survey_type = 'csat' then response_score else 0 end",
            'csat_answers': "case when survey_type = 'csat' then 1 else 0 end",
            'sentiment_total': "coalesce(comment_sentiment, 0)",
            'sentiment_comments': "case when comment_sentiment is not null then 1 else 0 end",
        },
    ) }}
),

grid as (
    select days.account_id, windows.window_days, days.score_date
    from days
    cross join windows
),

totals as (
    {{ running_totals(
        'grid',
        'changes',
        ['nps_answers', 'promoters', 'detractors', 'csat_total', 'csat_answers', 'sentiment_total', 'sentiment_comments'],
    ) }}
),

nps_answers as (
    select * from responses where survey_type = 'nps'
),

-- The newest NPS answer time on or before each day: a running maximum over the days and answer times.
latest_nps_times as (
    select account_id, score_date, latest_responded_at
    from (
        select
            account_id,
            score_date,
            is_day,
            max(responded_at) over (
                partition by account_id order by score_date, is_day rows between unbounded preceding and current row
            ) as latest_responded_at
        from (
            select account_id, responded_date as score_date, 0 as is_day, responded_at
            from nps_answers
            where account_id in (select account_id from days)
            union all
            select account_id, score_date, 1 as is_day, null
            from days
        ) as timeline
    ) as running
    where is_day = 1
),

-- Of answers given at the same moment, the one with the highest id counts (as a tie-break).
answers_by_time as (
    select account_id, responded_at, responded_date, response_score
    from (
        select
            nps_answers.*,
            row_number() over (partition by account_id, responded_at order by response_id desc) as tie_rank
        from nps_answers
    ) as ranked
    where tie_rank = 1
),

latest_nps as (
    select
        latest_nps_times.account_id,
        latest_nps_times.score_date,
        windows.window_days,
        answers_by_time.response_score
    from latest_nps_times
    inner join answers_by_time
        on latest_nps_times.account_id = answers_by_time.account_id
        and latest_nps_times.latest_responded_at = answers_by_time.responded_at
    cross join windows
    where answers_by_time.responded_date >= {{ window_start('latest_nps_times.score_date', 'windows.window_days') }}
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
            when measures.measure = 'nps' and totals.nps_answers > 0
                then 100.0 * cast(totals.promoters - totals.detractors as double) / totals.nps_answers
            when measures.measure = 'detractor_share' and totals.nps_answers > 0
                then cast(totals.detractors as double) / totals.nps_answers
            when measures.measure = 'survey_csat' and totals.csat_answers > 0
                then cast(totals.csat_total as double) / totals.csat_answers
            when measures.measure = 'comment_sentiment' and totals.sentiment_comments > 0
                then cast(totals.sentiment_total as double) / totals.sentiment_comments
            when measures.measure = 'latest_nps_score' then cast(latest_nps.response_score as double)
            when measures.measure = 'csm_sentiment' then cast(csm_rating.csm_rating as double)
        end as measure_value
    from days
    cross join measures
    left join totals
        on days.account_id = totals.account_id
        and days.score_date = totals.score_date
        and measures.window_days = totals.window_days
    left join latest_nps
        on days.account_id = latest_nps.account_id
        and days.score_date = latest_nps.score_date
        and measures.window_days = latest_nps.window_days
    left join csm_rating
        on days.account_id = csm_rating.account_id
        and days.score_date = csm_rating.score_date
)

select * from computed
