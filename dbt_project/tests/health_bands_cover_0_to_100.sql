-- Guards the band configuration: there are bands, they start at 0, end at 100, and each starts where the previous one ends.
{{ config(meta={"dagster": {"ref": {"name": "health_bands"}}}) }}
with ordered as (
    select
        band,
        min_score,
        max_score,
        lag(band) over (order by min_score) as previous_band,
        lag(max_score) over (order by min_score) as previous_max_score,
        row_number() over (order by min_score) as position_from_bottom,
        row_number() over (order by min_score desc) as position_from_top
    from {{ ref('health_bands') }}
),

validation_errors as (
    select
        band,
        'seeds/health_bands.csv: band ' || band || ' is empty or inverted (min_score ' || {{ value_text('min_score') }}
            || ', max_score ' || {{ value_text('max_score') }} || ')' as problem
    from ordered
    where max_score <= min_score
    union all
    select band, 'seeds/health_bands.csv: the lowest band, ' || band || ', starts at ' || {{ value_text('min_score') }} || ', not 0'
    from ordered
    where position_from_bottom = 1 and min_score <> 0
    union all
    select band, 'seeds/health_bands.csv: the highest band, ' || band || ', ends at ' || {{ value_text('max_score') }} || ', not 100'
    from ordered
    where position_from_top = 1 and max_score <> 100
    union all
    select
        band,
        'seeds/health_bands.csv: band ' || band || ' starts at ' || {{ value_text('min_score') }} || ' but band '
            || previous_band || ' below it ends at ' || {{ value_text('previous_max_score') }} || ' (a gap or an overlap)'
    from ordered
    where previous_max_score is not null and min_score <> previous_max_score
    union all
    -- Without this row an empty seed would pass every other rule and label no score.
    select cast(null as {{ dbt.type_string() }}), 'seeds/health_bands.csv has no bands'
    from (select count(*) as bands from {{ ref('health_bands') }}) as configured
    where configured.bands = 0
)

select * from validation_errors
