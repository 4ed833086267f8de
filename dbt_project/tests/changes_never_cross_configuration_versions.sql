-- Guards the comparability of changes: for each account-day this build scored and each window, change_7d / change_30d (and, over 30 days, the trend) exist only when the earlier day was scored with the same configuration version, equal the difference of the two scores then, and is_config_changed_7d / _30d say whether the versions differ.
{{ config(meta={'dagster': {'ref': {'name': 'account_health_history'}}}) }}

with scored_days as (
    select min(score_date) as first_score_date
    from {{ ref('int_account_days_assigned') }}
    where is_history_day
),

windows as (
    {{ score_change_window_rows() }}
),

compared as (
    select
        history.account_id,
        history.score_date,
        windows.window_days,
        case
            {%- for days, column in score_change_windows().items() %}
            when windows.window_days = {{ days }} then history.{{ column }}
            {%- endfor %}
        end as score_change,
        case
            {%- for days in score_change_windows() %}
            when windows.window_days = {{ days }} then history.is_config_changed_{{ days }}d
            {%- endfor %}
        end as is_config_changed,
        history.trend,
        history.config_version,
        earlier.config_version as earlier_config_version,
        earlier.health_score is not null as has_earlier_score,
        cast(history.health_score - earlier.health_score as decimal(10, 6)) as score_difference
    from {{ ref('account_health_history') }} as history
    cross join windows
    left join {{ ref('account_health_history') }} as earlier
        on history.account_id = earlier.account_id
        and earlier.score_date = cast({{ dbt.dateadd('day', '(-1 * windows.window_days)', 'history.score_date') }} as date)
    where history.score_date >= (select first_score_date from scored_days)
),

checked as (
    select
        *,
        has_earlier_score and earlier_config_version <> config_version as is_version_crossed
    from compared
),

validation_errors as (
    select
        *,
        case
            when is_version_crossed and score_change is not null
                then 'a change compares scores of two configuration versions'
            when is_version_crossed and window_days = 30 and trend is not null
                then 'a trend compares scores of two configuration versions'
            when not has_earlier_score and is_config_changed is not null
                then 'is_config_changed is set without an earlier score'
            when has_earlier_score and (is_config_changed is null or is_config_changed <> is_version_crossed)
                then 'is_config_changed does not say whether the earlier score has another configuration version'
            else 'the change is not the difference of the two scores'
        end as problem
    from checked
    where (is_version_crossed and (score_change is not null or (window_days = 30 and trend is not null)))
        or (not has_earlier_score and is_config_changed is not null)
        or (has_earlier_score and (is_config_changed is null or is_config_changed <> is_version_crossed))
        or (not is_version_crossed and (
            (score_change is null and score_difference is not null)
            or (score_change is not null and (score_difference is null or score_change <> score_difference))
        ))
)

select * from validation_errors
