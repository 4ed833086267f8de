-- Feedback measures per account on its scored day: account-level NPS (% promoters - % detractors,
-- -100 to 100) and average CSAT survey score over the window. No answers, no value.
with accounts as (
    select account_id, scored_date from {{ ref('int_accounts_enriched') }}
),

measures as (
    select measure, window_days
    from {{ ref('scorecard_measures') }}
    where measure in ('nps', 'survey_csat')
),

responses as (
    select * from {{ ref('stg_surveys__survey_responses') }}
),

answered as (
    select
        accounts.account_id,
        measures.measure,
        sum(case when responses.survey_type = 'nps' then 1 else 0 end) as nps_answers,
        sum(case when responses.survey_type = 'nps' and responses.response_score >= 9 then 1 else 0 end)
            as promoters,
        sum(case when responses.survey_type = 'nps' and responses.response_score <= 6 then 1 else 0 end)
            as detractors,
        sum(case when responses.survey_type = 'csat' then responses.response_score end) as csat_total,
        sum(case when responses.survey_type = 'csat' then 1 else 0 end) as csat_answers
    from accounts
    cross join measures
    left join responses
        on responses.account_id = accounts.account_id
        and responses.responded_date <= accounts.scored_date
        and responses.responded_date >= {{ window_start('accounts.scored_date', 'measures.window_days') }}
    group by accounts.account_id, measures.measure
),

computed as (
    select
        account_id,
        measure,
        case
            when measure = 'nps' and nps_answers > 0
                then 100.0 * (promoters - detractors) / nps_answers
            when measure = 'survey_csat' and csat_answers > 0 then cast(csat_total as double) / csat_answers
        end as measure_value
    from answered
)

select * from computed
