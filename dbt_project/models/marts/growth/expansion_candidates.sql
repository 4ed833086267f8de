-- Healthy accounts ready to grow: green, not declining (or without a trend across a configuration change), and showing at least `min_signals` of four signals on
-- their latest scored day (seats well used, active users rising, a promoter, high satisfaction), one of them
-- from usage unless `require_usage_signal` is 0. The expansion
-- is estimated in seats at the account's current price per seat: enough seats for today's active users to fill
-- `target_seat_utilisation` of them. Settings in seeds/expansion_settings.csv.
{%- set signal_measures = ['active_user_ratio', 'active_users_trend', 'latest_nps_score', 'ticket_csat', 'survey_csat'] %}

with current_accounts as (
    select *
    from {{ ref('account_health_scores') }}
    where not is_churned
        and health_band = 'green'
        -- Not declining. Without a trend because the score of 30 days ago has another configuration version,
        -- the account is judged on its band: else every candidate would vanish for a month after a weight change.
        and (trend in ('stable', 'improving') or (trend is null and is_config_changed_30d))
),

-- The signals' values on the day the current score describes.
latest_values as (
    select
        contributions.account_id,
        {%- for measure in signal_measures %}
        max(case when contributions.measure = '{{ measure }}' then contributions.measure_value end) as {{ measure }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('fct_health_score_contributions') }} as contributions
    inner join current_accounts
        on contributions.account_id = current_accounts.account_id
        and contributions.score_date = current_accounts.score_date
    where contributions.measure in ('{{ signal_measures | join("', '") }}')
    group by contributions.account_id
),

signals as (
    select
        current_accounts.*,
        latest_values.active_user_ratio as seat_utilisation,
        cast(round(latest_values.active_user_ratio * current_accounts.licensed_seats, 0) as integer) as active_users,
        latest_values.active_users_trend,
        latest_values.latest_nps_score,
        latest_values.ticket_csat,
        latest_values.survey_csat,
        coalesce(latest_values.active_user_ratio >= {{ seed_setting('expansion_settings', 'min_seat_utilisation') }}, false)
            as has_high_seat_utilisation,
        coalesce(latest_values.active_users_trend >= {{ seed_setting('expansion_settings', 'min_active_users_growth') }}, false)
            as has_rising_usage,
        coalesce(latest_values.latest_nps_score >= {{ seed_setting('expansion_settings', 'promoter_min_score') }}, false)
            as is_promoter,
        coalesce(greatest(coalesce(latest_values.ticket_csat, 0), coalesce(latest_values.survey_csat, 0))
            >= {{ seed_setting('expansion_settings', 'high_csat_min') }}, false) as has_high_csat
    from current_accounts
    inner join latest_values
        on current_accounts.account_id = latest_values.account_id
),

counted as (
    select
        *,
        case when has_high_seat_utilisation then 1 else 0 end
            + case when has_rising_usage then 1 else 0 end
            + case when is_promoter then 1 else 0 end
            + case when has_high_csat then 1 else 0 end as signal_count,
        greatest(
            0,
            cast(ceil(active_users / {{ seed_setting('expansion_settings', 'target_seat_utilisation') }}) as integer)
                - licensed_seats
        ) as suggested_additional_seats,
        cast(arr_amount / nullif(licensed_seats, 0) as decimal(18, 2)) as price_per_seat
    from signals
),

candidates as (
    select *
    from counted
    where signal_count >= {{ seed_setting('expansion_settings', 'min_signals') }}
        -- Satisfaction alone does not sell seats: by default one signal must come from the product's use.
        and (has_high_seat_utilisation or has_rising_usage
            or {{ seed_setting('expansion_settings', 'require_usage_signal') }} = 0)
),

-- The evidence as a CSM reads it, strongest signal first.
evidence as (
    select
        account_id,
        concat_ws('; ',
            case when has_high_seat_utilisation then
                {{ format_measure_value('seat_utilisation', "'ratio'") }} || ' of ' || cast(licensed_seats as {{ dbt.type_string() }})
                || ' licensed seats active in the last 30 days' end,
            case when has_rising_usage then
                'active users up ' || {{ format_measure_value('active_users_trend', "'change'") }} || ' vs the 30 days before' end,
            case when is_promoter then
                'latest NPS answer ' || cast(cast(latest_nps_score as integer) as {{ dbt.type_string() }}) || ' of 10' end,
            case when has_high_csat and coalesce(ticket_csat, 0) >= coalesce(survey_csat, 0) then
                'ticket satisfaction ' || {{ format_measure_value('ticket_csat', "'rating'") }} || ' of 5'
            when has_high_csat then
                'survey satisfaction ' || {{ format_measure_value('survey_csat', "'rating'") }} || ' of 5' end
        ) as evidence
    from candidates
),

final as (
    select
        candidates.account_id,
        candidates.account_name,
        candidates.segment,
        candidates.plan_name,
        candidates.csm_owner,
        candidates.currency_code,
        candidates.reporting_currency_code,
        candidates.health_band,
        candidates.trend,
        evidence.evidence,
        candidates.health_score,
        candidates.signal_count,
        candidates.seat_utilisation,
        candidates.active_users,
        candidates.licensed_seats,
        candidates.active_users_trend,
        candidates.latest_nps_score,
        candidates.ticket_csat,
        candidates.survey_csat,
        candidates.suggested_additional_seats,
        candidates.price_per_seat,
        cast(candidates.suggested_additional_seats * candidates.price_per_seat as decimal(18, 2)) as estimated_expansion_arr,
        {{ to_reporting_currency('candidates.suggested_additional_seats * candidates.price_per_seat', 'exchange_rates') }}
            as estimated_expansion_arr_reporting_amount,
        candidates.arr_amount,
        candidates.arr_reporting_amount,
        candidates.has_high_seat_utilisation,
        candidates.has_rising_usage,
        candidates.is_promoter,
        candidates.has_high_csat,
        candidates.renewal_date,
        candidates.score_date
    from candidates
    inner join evidence
        on candidates.account_id = evidence.account_id
    -- At the rate of the day the score describes, as the account's converted ARR.
    left join {{ ref('int_exchange_rates_dated') }} as exchange_rates
        on candidates.currency_code = exchange_rates.currency_code
        and {{ exchange_rate_valid_on('exchange_rates', 'candidates.score_date') }}
)

select * from final
