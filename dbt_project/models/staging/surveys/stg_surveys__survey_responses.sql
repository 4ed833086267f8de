with source as (
    {{ latest_landed_rows(source('surveys', 'survey_responses'), ['response_id']) }}
),

renamed as (
    select
        response_id,
        account_id,
        _respondent_email_pseudonym as respondent_email_pseudonym,
        survey_type,
        comment as response_comment,
        _comment_language as comment_language,
        cast(score as integer) as response_score,
        cast(_comment_sentiment as decimal(5, 4)) as comment_sentiment,
        cast(responded_at as date) as responded_date,
        cast(responded_at as timestamp) as responded_at
    from source
)

select * from renamed
