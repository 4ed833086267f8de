-- The benchmark floor (issue 7): the daily health scores of marts.account_health_history computed by ONE
-- hand-written DuckDB query, straight from the landing files and the scoring seeds.
--
-- This is a deliberate second, hand-optimised expression of the rules in dbt_project/, kept only for the
-- benchmark: `make bench` reports the project's full refresh as a multiple of the time this query needs.
-- The dbt models are the definition. orchestration/bench/floor.py checks this query against
-- marts.account_health_history on account-days; where the two disagree, this file is wrong.
-- Nothing here is DuckDB-portable on purpose (QUALIFY, lambdas, PIVOT, read_parquet), unlike the models.
--
-- Named parameters, filled by floor.py:
--   $accounts_files, $usage_event_files, $support_ticket_files, $invoice_files, $survey_response_files,
--   $milestone_files, $churn_event_files, $csm_rating_files   lists of landing files, in name order
--   $seeds_dir                                                 directory of the scoring seeds (seeds/)
--   $as_of                                                     last day to score; null: the latest usage day
-- and the table comment_scores (comment, sentiment), which floor.py fills with the sentiment of every
-- distinct survey comment, scored in Python as the loader scores it (no SQL can run its lexicons).
-- The connection must run in UTC (floor.py sets it): timestamps become days the way the ingestion does it.
--
-- Why it is fast where the models are slow. The models join every account-day to every row of its window
-- (count distinct over a range join). Here every measure is read off sorted passes per account:
--   * distinct active users: each user's activity days are merged into covered intervals
--     [first day, last day + W) (gaps and islands), so a user adds +1 where an interval starts and -1
--     where it ends, and a running sum gives the active users of every day; the window before (the
--     trend) is the same changes W days later;
--   * active days, events and distinct features: one row per account and day (the features as bits of
--     a mask) and a frame of W days over those rows, in the same sorted pass as the running sums;
--   * tickets, invoices, survey answers, milestones and CSM ratings change an account's totals on few
--     days: +x when a row starts to count, -x when it leaves its window, summed on those days only;
--     values that are not sums (median resolution time, oldest unpaid invoice, latest NPS answer, valid
--     CSM rating) are computed on the days they can change; every scored day takes the latest state.
-- Measures stay in wide rows (one column per measure), never one row per measure and day.
--
-- What it assumes, beyond the rules: the accounts export is one snapshot (on a fresh full build every day
-- uses the same account version), it is a German Excel CSV (semicolons, decimal commas, dd.mm.yyyy), the
-- usage events are Parquet and the other sources ISO CSVs (the simulator's layout), values are spelled as
-- the source contract lists them, and there are at most 64 distinct features. Each measure has the
-- component and normalisation listed in `implemented_measures`; a seed asking for another stops the
-- query with an error instead of a silently different score. Windows, ramps, bands, reference period,
-- weights, coverage, caps, bands and settings are all read from the seeds.
with

-- Configuration ----------------------------------------------------------------------------------------

setting_rows as (
    select setting, nullif(trim(value), '') as value
    from read_csv($seeds_dir || '/scoring_settings.csv', header = true, all_varchar = true)
),

settings as (
    select
        max(case when setting = 'history_start_date' then cast(value as date) end) as configured_history_start_date,
        max(case when setting = 'reference_start_date' then cast(value as date) end) as reference_start_date,
        max(case when setting = 'reference_end_date' then cast(value as date) end) as reference_end_date,
        max(case when setting = 'onboarding_days' then cast(value as integer) end) as onboarding_days,
        max(case when setting = 'renewal_window_days' then cast(value as integer) end) as renewal_window_days
    from setting_rows
),

-- Typed as the seeds' column_types in seeds/_scorecard__seeds.yml, so the arithmetic matches the models.
measure_settings as (
    select
        measure,
        component,
        normalisation,
        direction,
        cast(window_days as integer) as window_days,
        cast(nullif(trim(floor_value), '') as double) as floor_value,
        cast(nullif(trim(target_value), '') as double) as target_value
    from read_csv($seeds_dir || '/measures.csv', header = true, all_varchar = true)
),

-- The measures this query computes, with the component and normalisation it scores them with. The
-- models read both from seeds/measures.csv; here they are written into the SQL below, so a seed that
-- differs must stop the query rather than produce other scores. The position is the measure's place in
-- the list of measure values that caps look values up in.
implemented_measures (measure_position, measure, component, normalisation) as (
    values
        (1, 'active_user_ratio', 'usage', 'linear'),
        (2, 'active_days', 'usage', 'linear'),
        (3, 'feature_breadth', 'usage', 'linear'),
        (4, 'events_per_seat', 'usage', 'percentile'),
        (5, 'active_users_trend', 'usage', 'linear'),
        (6, 'tickets_per_seat', 'support', 'bands'),
        (7, 'urgent_ticket_share', 'support', 'linear'),
        (8, 'median_resolution_hours', 'support', 'linear'),
        (9, 'ticket_csat', 'support', 'linear'),
        (10, 'on_time_payment_share', 'payment', 'linear'),
        (11, 'max_days_overdue', 'payment', 'bands'),
        (12, 'outstanding_amount_ratio', 'payment', 'linear'),
        (13, 'nps', 'feedback', 'bands'),
        (14, 'latest_nps_score', 'feedback', 'linear'),
        (15, 'detractor_share', 'feedback', 'linear'),
        (16, 'survey_csat', 'feedback', 'linear'),
        (17, 'csm_sentiment', 'feedback', 'linear'),
        (18, 'milestones_achieved_share', 'milestones', 'linear'),
        (19, 'milestone_delay_days', 'milestones', 'linear'),
        (20, 'days_to_first_value', 'milestones', 'linear'),
        (21, 'comment_sentiment', 'feedback', 'linear')
),

unsupported_measure_settings as (
    select count(error(
        'floor.sql scores measure ' || coalesce(implemented.measure, configured.measure) || ' as '
        || coalesce(implemented.component || ' / ' || implemented.normalisation, 'nothing')
        || ', but seeds/measures.csv says '
        || coalesce(configured.component || ' / ' || configured.normalisation, 'nothing')
        || '; adapt orchestration/bench/floor.sql to the new configuration'
    )) as problems
    from measure_settings as configured
    full outer join implemented_measures as implemented
        on configured.measure = implemented.measure
    where configured.component is distinct from implemented.component
       or configured.normalisation is distinct from implemented.normalisation
),

-- One row holding every measure's window, ramp and direction as <measure>_<setting> columns.
measure_config as (
    pivot (select measure, window_days, floor_value, target_value, direction from measure_settings)
    on measure in (
        'active_user_ratio', 'active_days', 'feature_breadth', 'events_per_seat', 'active_users_trend',
        'tickets_per_seat', 'urgent_ticket_share', 'median_resolution_hours', 'ticket_csat',
        'on_time_payment_share', 'max_days_overdue', 'outstanding_amount_ratio',
        'nps', 'latest_nps_score', 'detractor_share', 'survey_csat', 'csm_sentiment',
        'milestones_achieved_share', 'milestone_delay_days', 'days_to_first_value', 'comment_sentiment'
    )
    using
        any_value(window_days) as window_days,
        any_value(floor_value) as floor_value,
        any_value(target_value) as target_value,
        any_value(direction) as direction
),

measure_band_rows as (
    select
        measure,
        cast(nullif(trim(lower_bound), '') as double) as lower_bound,
        cast(nullif(trim(upper_bound), '') as double) as upper_bound,
        cast(points as decimal(10, 6)) as points
    from read_csv($seeds_dir || '/measure_bands.csv', header = true, all_varchar = true)
),

band_config as (
    select
        list({'lower_bound': lower_bound, 'upper_bound': upper_bound, 'points': points})
            filter (where measure = 'tickets_per_seat') as tickets_per_seat_bands,
        list({'lower_bound': lower_bound, 'upper_bound': upper_bound, 'points': points})
            filter (where measure = 'max_days_overdue') as max_days_overdue_bands,
        list({'lower_bound': lower_bound, 'upper_bound': upper_bound, 'points': points})
            filter (where measure = 'nps') as nps_bands
    from measure_band_rows
),

-- Caps, strictest first (lowest max_score, then name), as the models pick them; health bands likewise.
score_config as (
    select
        (
            select list(
                {
                    'cap': caps.cap,
                    'measure_position': implemented_measures.measure_position,
                    'comparison': caps.comparison,
                    'threshold': cast(caps.threshold as double),
                    'max_score': cast(caps.max_score as decimal(10, 6))
                }
                order by cast(caps.max_score as decimal(10, 6)), caps.cap
            )
            from read_csv($seeds_dir || '/score_caps.csv', header = true, all_varchar = true) as caps
            inner join implemented_measures
                on caps.measure = implemented_measures.measure
        ) as caps,
        (
            select list(
                {
                    'band': band,
                    'min_score': cast(min_score as decimal(10, 6)),
                    'max_score': cast(max_score as decimal(10, 6))
                }
                order by cast(min_score as decimal(10, 6))
            )
            from read_csv($seeds_dir || '/health_bands.csv', header = true, all_varchar = true)
        ) as health_bands
),

scorecard_assignments as (
    select segment, lifecycle_stage, scorecard
    from read_csv($seeds_dir || '/scorecard_assignments.csv', header = true, all_varchar = true)
),

-- A measure's weight in a scorecard is its component's weight times its weight inside the component.
-- The seed tests make every scorecard weigh every measure and component (0 allowed).
scorecard_measure_weights as (
    select
        weights.scorecard,
        weights.measure,
        cast(weights.weight as decimal(9, 6)) as measure_weight,
        cast(components.weight as decimal(9, 6)) * cast(weights.weight as decimal(9, 6)) as scorecard_weight
    from read_csv($seeds_dir || '/scorecard_measure_weights.csv', header = true, all_varchar = true) as weights
    inner join measure_settings
        on weights.measure = measure_settings.measure
    inner join read_csv($seeds_dir || '/scorecard_components.csv', header = true, all_varchar = true) as components
        on weights.scorecard = components.scorecard
        and measure_settings.component = components.component
),

-- One row per scorecard: its minimum coverage, the weight of all its measures, <component>_weight and
-- <measure>_measure_weight (the weight inside the component) columns.
scorecard_config as (
    select
        scorecards.scorecard,
        cast(scorecards.min_coverage as decimal(9, 6)) as min_coverage,
        (
            select sum(scorecard_measure_weights.scorecard_weight)
            from scorecard_measure_weights
            where scorecard_measure_weights.scorecard = scorecards.scorecard
        ) as weight_configured,
        component_weights.* exclude (scorecard),
        measure_weights.* exclude (scorecard)
    from read_csv($seeds_dir || '/scorecards.csv', header = true, all_varchar = true) as scorecards
    left join (
        pivot (
            select scorecard, component, cast(weight as decimal(9, 6)) as weight
            from read_csv($seeds_dir || '/scorecard_components.csv', header = true, all_varchar = true)
        )
        on component in ('usage', 'support', 'payment', 'feedback', 'milestones')
        using any_value(weight) as weight
        group by scorecard
    ) as component_weights
        on scorecards.scorecard = component_weights.scorecard
    left join (
        pivot (select scorecard, measure, measure_weight from scorecard_measure_weights)
        on measure in (
            'active_user_ratio', 'active_days', 'feature_breadth', 'events_per_seat', 'active_users_trend',
            'tickets_per_seat', 'urgent_ticket_share', 'median_resolution_hours', 'ticket_csat',
            'on_time_payment_share', 'max_days_overdue', 'outstanding_amount_ratio',
            'nps', 'latest_nps_score', 'detractor_share', 'survey_csat', 'csm_sentiment',
            'milestones_achieved_share', 'milestone_delay_days', 'days_to_first_value', 'comment_sentiment'
        )
        using any_value(measure_weight) as measure_weight
        group by scorecard
    ) as measure_weights
        on scorecards.scorecard = measure_weights.scorecard
),

-- Landing files, read as the ingestion and staging read them ------------------------------------------

-- The CRM export from German Excel: semicolons, decimal commas (12.345,50), dd.mm.yyyy dates.
accounts_landed as (
    select *, row_number() over () as source_row
    from read_csv($accounts_files, header = true, all_varchar = true, delim = ';', filename = true)
),

accounts as (
    select
        account_id,
        segment,
        cast(cast(replace(replace(trim(seats), '.', ''), ',', '.') as decimal(38, 6)) as integer) as licensed_seats,
        cast(replace(replace(trim(arr), '.', ''), ',', '.') as decimal(18, 2)) as arr_amount,
        coalesce(
            try_cast(trim(contract_start_date) as date),
            cast(try_strptime(trim(contract_start_date), '%d.%m.%Y') as date)
        ) as contract_start_date
    from accounts_landed
    -- Exports overlap: the row from the file sorting last, then the last line, wins (as in staging).
    qualify row_number() over (partition by account_id order by filename desc, source_row desc) = 1
),

cancellations as (
    select
        account_id,
        min(coalesce(try_cast(trim(churned_at) as date), cast(try_strptime(trim(churned_at), '%d.%m.%Y') as date)))
            as churned_date
    from read_csv($churn_event_files, header = true, all_varchar = true)
    -- Duplicates of a churn event share its key (account, day, type), so they cannot move the minimum.
    where churn_type = 'cancellation'
    group by account_id
),

usage_files as not materialized (
    select
        event_id,
        account_id,
        user_id,
        feature,
        -- The UTC day, as the ingestion takes it (counted from the epoch: a time zone cast per event would
        -- be the slowest step of reading them).
        date '1970-01-01' + cast(epoch_us(occurred_at) // 86400000000 as integer) as activity_date,
        filename,
        file_row_number
    from read_parquet($usage_event_files, filename = true, file_row_number = true)
),

-- Where an event id was landed twice on one day the row from the file sorting last wins, as in staging
-- (which de-duplicates per day). Finding the repeated ids first keeps the usual case (none) an anti-join
-- instead of a window over every event.
repeated_event_ids as materialized (
    select activity_date, event_id from usage_files group by activity_date, event_id having count(*) > 1
),

usage_events as not materialized (
    select account_id, user_id, feature, activity_date
    from usage_files
    anti join repeated_event_ids
        on usage_files.activity_date = repeated_event_ids.activity_date
        and usage_files.event_id = repeated_event_ids.event_id
    union all
    select account_id, user_id, feature, activity_date
    from (
        select usage_files.account_id, usage_files.user_id, usage_files.feature, usage_files.activity_date
        from usage_files
        semi join repeated_event_ids
            on usage_files.activity_date = repeated_event_ids.activity_date
            and usage_files.event_id = repeated_event_ids.event_id
        qualify row_number() over (
            partition by usage_files.activity_date, usage_files.event_id
            order by usage_files.filename desc, usage_files.file_row_number desc
        ) = 1
    )
),

-- Over the events of accounts the CRM export knows (the loader sets the others aside): they set the as-of
-- day.
usage_span as (
    select min(activity_date) as first_usage_date, max(activity_date) as last_usage_date
    from usage_events
    semi join accounts
        on usage_events.account_id = accounts.account_id
),

tickets as materialized (
    select
        account_id,
        priority in ('high', 'urgent') as is_high_priority,
        cast(nullif(trim(csat_rating), '') as integer) as csat_rating,
        cast(try_cast(nullif(trim(opened_at), '') as timestamptz) as timestamp) as opened_at,
        cast(try_cast(nullif(trim(resolved_at), '') as timestamptz) as timestamp) as resolved_at
    from (
        select *, row_number() over () as source_row
        from read_csv($support_ticket_files, header = true, all_varchar = true, filename = true)
    )
    qualify row_number() over (partition by ticket_id order by filename desc, source_row desc) = 1
),

-- Void invoices never count; the latest version of an invoice decides whether it is void.
invoices as (
    select
        account_id,
        cast(replace(trim(amount), ',', '') as decimal(18, 2)) as invoice_amount,
        cast(nullif(trim(due_date), '') as date) as due_date,
        cast(nullif(trim(paid_date), '') as date) as paid_date
    from (
        select *
        from (
            select *, row_number() over () as source_row
            from read_csv($invoice_files, header = true, all_varchar = true, filename = true)
        )
        qualify row_number() over (partition by invoice_id order by filename desc, source_row desc) = 1
    )
    where status <> 'void'
),

survey_responses as (
    select
        landed.account_id,
        landed.response_id,
        landed.survey_type,
        cast(landed.score as integer) as response_score,
        comment_scores.sentiment as comment_sentiment,
        cast(try_cast(trim(landed.responded_at) as timestamptz) as timestamp) as responded_at
    from (
        select *, row_number() over () as source_row
        from read_csv($survey_response_files, header = true, all_varchar = true, filename = true)
    ) as landed
    left join comment_scores
        on landed.comment = comment_scores.comment
    qualify row_number() over (partition by landed.response_id order by landed.filename desc, landed.source_row desc) = 1
),

milestones as (
    select
        account_id,
        milestone as milestone_name,
        cast(nullif(trim(target_date), '') as date) as target_date,
        cast(nullif(trim(achieved_date), '') as date) as achieved_date
    from (
        select *, row_number() over () as source_row
        from read_csv($milestone_files, header = true, all_varchar = true, filename = true)
    )
    qualify row_number() over (partition by account_id, milestone order by filename desc, source_row desc) = 1
),

csm_ratings as (
    select
        account_id,
        cast(rating as integer) as csm_rating,
        cast(nullif(trim(rated_on), '') as date) as rated_date,
        cast(nullif(trim(expires_on), '') as date) as expires_date
    from (
        select *, row_number() over () as source_row
        from read_csv($csm_rating_files, header = true, all_varchar = true, filename = true)
    )
    qualify row_number() over (partition by account_id, rated_on order by filename desc, source_row desc) = 1
),

-- Days to score -----------------------------------------------------------------------------------------

-- The as-of day is the latest usage day and the history starts on the first one, unless set otherwise.
-- The calendar also covers the frozen reference period that percentile measures are ranked against.
bounds as (
    select
        coalesce(cast($as_of as date), usage_span.last_usage_date, current_date) as as_of_date,
        coalesce(settings.configured_history_start_date, usage_span.first_usage_date, as_of_date) as history_start_date,
        case
            when settings.reference_start_date < history_start_date then settings.reference_start_date
            else history_start_date
        end as calendar_start_date,
        settings.reference_start_date,
        settings.reference_end_date,
        settings.onboarding_days,
        settings.renewal_window_days,
        -- Ticket volume counts as 0 rather than missing once the helpdesk feed has its first ticket.
        (select cast(min(opened_at) as date) from tickets) as first_ticket_date
    from settings
    cross join usage_span
),

-- Each account is scored from its contract start (not before the calendar) to the as-of day, or to the
-- day before its cancellation took effect. account_key is a small integer for cheap sorting.
account_spans as materialized (
    select
        row_number() over (order by accounts.account_id) as account_key,
        accounts.*,
        greatest(accounts.contract_start_date, bounds.calendar_start_date) as first_day,
        case
            when cancellations.churned_date is null then bounds.as_of_date
            else least(bounds.as_of_date, cancellations.churned_date - 1)
        end as last_day
    from accounts
    cross join bounds
    left join cancellations
        on accounts.account_id = cancellations.account_id
),

scored_days as (
    select account_key, day, true as is_scored_day
    from (
        select account_key, cast(unnest(generate_series(first_day, last_day, interval 1 day)) as date) as day
        from account_spans
        where first_day <= last_day
    )
    cross join bounds
    where day >= bounds.history_start_date
       or day between bounds.reference_start_date and bounds.reference_end_date
),

-- Usage: distinct users as merged intervals, features as bits, active days and events per day ---------

-- Each feature is one bit, so the features used in a window are the bits of one OR over its days.
feature_bits as (
    select
        feature,
        case
            when count(*) over () > 64 then error('floor.sql counts at most 64 distinct features')
            else cast(1 as ubigint) << cast(row_number() over (order by feature) - 1 as ubigint)
        end as feature_bit
    from (select distinct feature from usage_events where feature is not null)
),

account_user_days as materialized (
    select
        account_spans.account_key,
        usage_events.user_id,
        usage_events.activity_date,
        count(*) as event_count,
        bit_or(feature_bits.feature_bit) as feature_mask
    from usage_events
    inner join account_spans
        on usage_events.account_id = account_spans.account_id
    left join feature_bits
        on usage_events.feature = feature_bits.feature
    group by account_spans.account_key, usage_events.user_id, usage_events.activity_date
),

account_activity_days as (
    select
        account_key,
        activity_date,
        cast(sum(event_count) as integer) as day_events,
        bit_or(feature_mask) as feature_mask
    from account_user_days
    group by account_key, activity_date
),

first_activity as (
    select account_key, min(activity_date) as first_activity_date
    from account_activity_days
    group by account_key
),

-- A user active on day d counts in the windows ending on d .. d + W - 1. Activity days at most W apart
-- merge into one covered interval: +1 where an interval starts, -1 W days after its last activity day.
user_presence_windows as (
    select distinct window_days
    from measure_settings
    where measure in ('active_user_ratio', 'active_users_trend')
),

user_presence_changes as (
    select account_key, window_days, change.day, sum(change.delta) as delta
    from (
        select
            account_key,
            window_days,
            unnest([
                case
                    when previous_activity_date is null or activity_date - previous_activity_date > window_days
                        then {'day': activity_date, 'delta': 1}
                end,
                case
                    when next_activity_date is null or next_activity_date - activity_date > window_days
                        then {'day': activity_date + window_days, 'delta': -1}
                end
            ]) as change
        from (
            select
                account_user_days.account_key,
                user_presence_windows.window_days,
                account_user_days.activity_date,
                lag(account_user_days.activity_date) over user_history as previous_activity_date,
                lead(account_user_days.activity_date) over user_history as next_activity_date
            from account_user_days
            cross join user_presence_windows
            window user_history as (
                partition by user_presence_windows.window_days, account_user_days.account_key, account_user_days.user_id
                order by account_user_days.activity_date
            )
        )
    )
    where change is not null
    group by account_key, window_days, change.day
),

-- Active users of the ratio window; of the trend window; and of the trend's previous window, which is
-- the trend window W days earlier: the same changes, W days later.
user_presence_deltas as (
    select
        account_key,
        change.day,
        change.ratio_active_users,
        change.trend_active_users,
        change.trend_previous_active_users
    from (
        select
            account_key,
            unnest([
                {
                    'day': day,
                    'ratio_active_users': case when window_days = active_user_ratio_window_days then delta end,
                    'trend_active_users': case when window_days = active_users_trend_window_days then delta end,
                    'trend_previous_active_users': null
                },
                case when window_days = active_users_trend_window_days then {
                    'day': day + window_days,
                    'ratio_active_users': null,
                    'trend_active_users': null,
                    'trend_previous_active_users': delta
                } end
            ]) as change
        from user_presence_changes
        cross join measure_config
    )
    where change is not null
),

-- Support: tickets opened and rated in the windows; the median resolution time where it changes ---------

account_tickets as (
    select
        account_spans.account_key,
        tickets.is_high_priority,
        tickets.csat_rating,
        cast(tickets.opened_at as date) as opened_date,
        cast(tickets.resolved_at as date) as resolved_date,
        -- Seconds, as the models count them, then hours.
        date_diff('second', tickets.opened_at, tickets.resolved_at) / 3600.0 as resolution_hours
    from tickets
    inner join account_spans
        on tickets.account_id = account_spans.account_id
),

ticket_deltas as (
    select account_key, change.*
    from (
        select
            account_key,
            unnest([
                {
                    'day': opened_date,
                    'tickets_opened': 1, 'urgency_tickets_opened': 1, 'urgency_high_priority_tickets': is_high_priority::integer,
                    'rated_tickets': 0, 'rating_total': 0
                },
                {
                    'day': opened_date + tickets_per_seat_window_days,
                    'tickets_opened': -1, 'urgency_tickets_opened': 0, 'urgency_high_priority_tickets': 0,
                    'rated_tickets': 0, 'rating_total': 0
                },
                {
                    'day': opened_date + urgent_ticket_share_window_days,
                    'tickets_opened': 0, 'urgency_tickets_opened': -1, 'urgency_high_priority_tickets': -is_high_priority::integer,
                    'rated_tickets': 0, 'rating_total': 0
                },
                -- CSAT counts for the tickets resolved in the window.
                case when resolved_date is not null and csat_rating is not null then {
                    'day': resolved_date,
                    'tickets_opened': 0, 'urgency_tickets_opened': 0, 'urgency_high_priority_tickets': 0,
                    'rated_tickets': 1, 'rating_total': csat_rating
                } end,
                case when resolved_date is not null and csat_rating is not null then {
                    'day': resolved_date + ticket_csat_window_days,
                    'tickets_opened': 0, 'urgency_tickets_opened': 0, 'urgency_high_priority_tickets': 0,
                    'rated_tickets': -1, 'rating_total': -csat_rating
                } end
            ]) as change
        from account_tickets
        cross join measure_config
    )
    where change is not null
),

resolved_tickets as materialized (
    select account_key, resolved_date, resolution_hours
    from account_tickets
    where resolved_date is not null
),

-- The set of tickets resolved in the window changes only when one is resolved or leaves the window.
resolution_median_changes as (
    select
        change_days.account_key,
        change_days.day,
        {'hours': median(resolved_tickets.resolution_hours)} as resolution_median
    from (
        select distinct account_key, unnest([resolved_date, resolved_date + median_resolution_hours_window_days]) as day
        from resolved_tickets
        cross join measure_config
    ) as change_days
    cross join measure_config
    left join resolved_tickets
        on change_days.account_key = resolved_tickets.account_key
        and resolved_tickets.resolved_date <= change_days.day
        and resolved_tickets.resolved_date > change_days.day - measure_config.median_resolution_hours_window_days
    group by change_days.account_key, change_days.day
),

-- Payment: invoices due before the day within the window, judged with what was paid by then -------------

account_invoices as materialized (
    select account_spans.account_key, invoices.invoice_amount, invoices.due_date, invoices.paid_date
    from invoices
    inner join account_spans
        on invoices.account_id = account_spans.account_id
),

-- An invoice counts from the day after it falls due until its window has passed. It is unpaid on day D
-- when it was not paid by D: outstanding from the day after its due date up to the day before payment.
invoice_deltas as (
    select account_key, change.*
    from (
        select
            account_key,
            unnest([
                {
                    'day': due_date + 1,
                    'on_time_invoices_due': 1, 'invoices_paid_on_time': is_paid_on_time::integer,
                    'overdue_invoices_due': 1, 'outstanding_invoices_due': 1, 'outstanding_amount': 0::decimal(18, 2)
                },
                {
                    'day': due_date + on_time_payment_share_window_days,
                    'on_time_invoices_due': -1, 'invoices_paid_on_time': -is_paid_on_time::integer,
                    'overdue_invoices_due': 0, 'outstanding_invoices_due': 0, 'outstanding_amount': 0::decimal(18, 2)
                },
                {
                    'day': due_date + max_days_overdue_window_days,
                    'on_time_invoices_due': 0, 'invoices_paid_on_time': 0,
                    'overdue_invoices_due': -1, 'outstanding_invoices_due': 0, 'outstanding_amount': 0::decimal(18, 2)
                },
                {
                    'day': due_date + outstanding_amount_ratio_window_days,
                    'on_time_invoices_due': 0, 'invoices_paid_on_time': 0,
                    'overdue_invoices_due': 0, 'outstanding_invoices_due': -1, 'outstanding_amount': 0::decimal(18, 2)
                },
                case when outstanding_until > due_date + 1 then {
                    'day': due_date + 1,
                    'on_time_invoices_due': 0, 'invoices_paid_on_time': 0,
                    'overdue_invoices_due': 0, 'outstanding_invoices_due': 0, 'outstanding_amount': invoice_amount
                } end,
                case when outstanding_until > due_date + 1 then {
                    'day': outstanding_until,
                    'on_time_invoices_due': 0, 'invoices_paid_on_time': 0,
                    'overdue_invoices_due': 0, 'outstanding_invoices_due': 0, 'outstanding_amount': -invoice_amount
                } end
            ]) as change
        from (
            select
                account_invoices.*,
                measure_config.*,
                coalesce(account_invoices.paid_date <= account_invoices.due_date, false) as is_paid_on_time,
                -- First day the invoice no longer counts as outstanding: paid, or out of the window.
                least(
                    account_invoices.due_date + measure_config.outstanding_amount_ratio_window_days,
                    coalesce(
                        account_invoices.paid_date,
                        account_invoices.due_date + measure_config.outstanding_amount_ratio_window_days
                    )
                ) as outstanding_until
            from account_invoices
            cross join measure_config
        )
    )
    where change is not null
),

-- Days overdue of the oldest unpaid invoice: unpaid invoices in the window change only where one starts
-- or stops counting.
unpaid_invoice_spans as materialized (
    select account_key, due_date, due_date + 1 as unpaid_from, unpaid_until
    from (
        select
            account_invoices.account_key,
            account_invoices.due_date,
            least(
                account_invoices.due_date + measure_config.max_days_overdue_window_days,
                coalesce(account_invoices.paid_date, account_invoices.due_date + measure_config.max_days_overdue_window_days)
            ) as unpaid_until
        from account_invoices
        cross join measure_config
    )
    where unpaid_until > due_date + 1
),

oldest_unpaid_changes as (
    select
        change_days.account_key,
        change_days.day,
        {'due_date': min(unpaid_invoice_spans.due_date)} as oldest_unpaid
    from (
        select distinct account_key, unnest([unpaid_from, unpaid_until]) as day from unpaid_invoice_spans
    ) as change_days
    left join unpaid_invoice_spans
        on change_days.account_key = unpaid_invoice_spans.account_key
        and unpaid_invoice_spans.unpaid_from <= change_days.day
        and unpaid_invoice_spans.unpaid_until > change_days.day
    group by change_days.account_key, change_days.day
),

-- Feedback: answers in the windows; the latest NPS answer; the CSM rating valid on the day --------------

account_responses as (
    select account_spans.account_key, survey_responses.* exclude (account_id)
    from survey_responses
    inner join account_spans
        on survey_responses.account_id = account_spans.account_id
),

response_deltas as (
    select account_key, change.*
    from (
        select
            account_key,
            unnest([
                {
                    'day': responded_date,
                    'nps_answers': is_nps::integer, 'nps_promoters': is_promoter::integer, 'nps_detractors': is_detractor::integer,
                    'detractor_share_answers': is_nps::integer, 'detractor_share_detractors': is_detractor::integer,
                    'csat_answers': is_csat::integer, 'csat_total': case when is_csat then response_score else 0 end,
                    'sentiment_total': sentiment, 'sentiment_comments': has_sentiment::integer
                },
                {
                    'day': responded_date + nps_window_days,
                    'nps_answers': -is_nps::integer, 'nps_promoters': -is_promoter::integer, 'nps_detractors': -is_detractor::integer,
                    'detractor_share_answers': 0, 'detractor_share_detractors': 0,
                    'csat_answers': 0, 'csat_total': 0,
                    'sentiment_total': no_sentiment, 'sentiment_comments': 0
                },
                {
                    'day': responded_date + detractor_share_window_days,
                    'nps_answers': 0, 'nps_promoters': 0, 'nps_detractors': 0,
                    'detractor_share_answers': -is_nps::integer, 'detractor_share_detractors': -is_detractor::integer,
                    'csat_answers': 0, 'csat_total': 0,
                    'sentiment_total': no_sentiment, 'sentiment_comments': 0
                },
                {
                    'day': responded_date + survey_csat_window_days,
                    'nps_answers': 0, 'nps_promoters': 0, 'nps_detractors': 0,
                    'detractor_share_answers': 0, 'detractor_share_detractors': 0,
                    'csat_answers': -is_csat::integer, 'csat_total': case when is_csat then -response_score else 0 end,
                    'sentiment_total': no_sentiment, 'sentiment_comments': 0
                },
                {
                    'day': responded_date + comment_sentiment_window_days,
                    'nps_answers': 0, 'nps_promoters': 0, 'nps_detractors': 0,
                    'detractor_share_answers': 0, 'detractor_share_detractors': 0,
                    'csat_answers': 0, 'csat_total': 0,
                    'sentiment_total': -sentiment, 'sentiment_comments': -has_sentiment::integer
                }
            ]) as change
        from (
            select
                account_key,
                cast(responded_at as date) as responded_date,
                response_score,
                survey_type = 'nps' as is_nps,
                survey_type = 'nps' and response_score >= 9 as is_promoter,
                survey_type = 'nps' and response_score <= 6 as is_detractor,
                survey_type = 'csat' as is_csat,
                -- Exact decimals, as in the models: the average is one division of an exact sum.
                cast(coalesce(comment_sentiment, 0) as decimal(18, 4)) as sentiment,
                cast(0 as decimal(18, 4)) as no_sentiment,
                comment_sentiment is not null as has_sentiment
            from account_responses
        )
        cross join measure_config
    )
),

-- The day's last NPS answer (by time, then response id); carried forward, it is the latest answer so far.
latest_nps_changes as (
    select
        account_key,
        cast(responded_at as date) as day,
        arg_max(
            {'score': response_score, 'responded_date': cast(responded_at as date)},
            {'responded_at': responded_at, 'response_id': response_id}
        ) as latest_nps_answer
    from account_responses
    where survey_type = 'nps'
    group by account_key, cast(responded_at as date)
),

account_csm_ratings as materialized (
    select account_spans.account_key, csm_ratings.csm_rating, csm_ratings.rated_date, csm_ratings.expires_date
    from csm_ratings
    inner join account_spans
        on csm_ratings.account_id = account_spans.account_id
),

-- The newest rating that has not expired: it changes only where a rating is given or expires.
csm_rating_changes as (
    select
        change_days.account_key,
        change_days.day,
        {'rating': arg_max(account_csm_ratings.csm_rating, account_csm_ratings.rated_date)} as valid_csm_rating
    from (
        select distinct account_key, unnest([rated_date, expires_date + 1]) as day from account_csm_ratings
    ) as change_days
    left join account_csm_ratings
        on change_days.account_key = account_csm_ratings.account_key
        and account_csm_ratings.rated_date <= change_days.day
        and account_csm_ratings.expires_date >= change_days.day
    group by change_days.account_key, change_days.day
),

-- Milestones: due in the window by their target date, achieved by the day ------------------------------

account_milestones as materialized (
    select account_spans.account_key, milestones.milestone_name, milestones.target_date, milestones.achieved_date
    from milestones
    inner join account_spans
        on milestones.account_id = account_spans.account_id
),

milestone_deltas as (
    select account_key, change.*
    from (
        select
            account_key,
            unnest([
                {
                    'day': target_date,
                    'share_milestones_due': 1, 'delay_milestones_due': 1, 'first_value_milestones_due': 1,
                    'share_milestones_achieved': 0, 'delay_milestones_achieved': 0, 'delay_total_days': 0
                },
                {
                    'day': target_date + milestones_achieved_share_window_days,
                    'share_milestones_due': -1, 'delay_milestones_due': 0, 'first_value_milestones_due': 0,
                    'share_milestones_achieved': 0, 'delay_milestones_achieved': 0, 'delay_total_days': 0
                },
                {
                    'day': target_date + milestone_delay_days_window_days,
                    'share_milestones_due': 0, 'delay_milestones_due': -1, 'first_value_milestones_due': 0,
                    'share_milestones_achieved': 0, 'delay_milestones_achieved': 0, 'delay_total_days': 0
                },
                {
                    'day': target_date + days_to_first_value_window_days,
                    'share_milestones_due': 0, 'delay_milestones_due': 0, 'first_value_milestones_due': -1,
                    'share_milestones_achieved': 0, 'delay_milestones_achieved': 0, 'delay_total_days': 0
                },
                case when achieved_counts_from < target_date + milestones_achieved_share_window_days then {
                    'day': achieved_counts_from,
                    'share_milestones_due': 0, 'delay_milestones_due': 0, 'first_value_milestones_due': 0,
                    'share_milestones_achieved': 1, 'delay_milestones_achieved': 0, 'delay_total_days': 0
                } end,
                case when achieved_counts_from < target_date + milestones_achieved_share_window_days then {
                    'day': target_date + milestones_achieved_share_window_days,
                    'share_milestones_due': 0, 'delay_milestones_due': 0, 'first_value_milestones_due': 0,
                    'share_milestones_achieved': -1, 'delay_milestones_achieved': 0, 'delay_total_days': 0
                } end,
                case when achieved_counts_from < target_date + milestone_delay_days_window_days then {
                    'day': achieved_counts_from,
                    'share_milestones_due': 0, 'delay_milestones_due': 0, 'first_value_milestones_due': 0,
                    'share_milestones_achieved': 0, 'delay_milestones_achieved': 1,
                    'delay_total_days': achieved_date - target_date
                } end,
                case when achieved_counts_from < target_date + milestone_delay_days_window_days then {
                    'day': target_date + milestone_delay_days_window_days,
                    'share_milestones_due': 0, 'delay_milestones_due': 0, 'first_value_milestones_due': 0,
                    'share_milestones_achieved': 0, 'delay_milestones_achieved': -1,
                    'delay_total_days': target_date - achieved_date
                } end
            ]) as change
        from (
            select
                account_milestones.*,
                measure_config.*,
                -- An achievement counts once the milestone is due and achieved, and only while it is in
                -- the window (one achieved after leaving it never counts).
                case
                    when account_milestones.achieved_date is not null
                        then greatest(account_milestones.target_date, account_milestones.achieved_date)
                end as achieved_counts_from
            from account_milestones
            cross join measure_config
        )
    )
    where change is not null
),

first_value_milestones as (
    select account_key, target_date as first_value_target_date, achieved_date as first_value_achieved_date
    from account_milestones
    where milestone_name = 'first_value'
),

-- The sweeps: all changes of an account and day added up, then running totals day by day ---------------

-- Tickets, invoices, answers, ratings and milestones change an account's totals on few days. Their
-- running totals are computed on those days only, as one state per day that holds until the next;
-- changes after an account's last scored day never count.
record_changes as (
    select
        changes.account_key,
        changes.day,
        cast(sum(tickets_opened) as integer) as tickets_opened,
        cast(sum(urgency_tickets_opened) as integer) as urgency_tickets_opened,
        cast(sum(urgency_high_priority_tickets) as integer) as urgency_high_priority_tickets,
        cast(sum(rated_tickets) as integer) as rated_tickets,
        cast(sum(rating_total) as integer) as rating_total,
        cast(sum(on_time_invoices_due) as integer) as on_time_invoices_due,
        cast(sum(invoices_paid_on_time) as integer) as invoices_paid_on_time,
        cast(sum(overdue_invoices_due) as integer) as overdue_invoices_due,
        cast(sum(outstanding_invoices_due) as integer) as outstanding_invoices_due,
        cast(sum(outstanding_amount) as decimal(18, 2)) as outstanding_amount,
        cast(sum(nps_answers) as integer) as nps_answers,
        cast(sum(nps_promoters) as integer) as nps_promoters,
        cast(sum(nps_detractors) as integer) as nps_detractors,
        cast(sum(detractor_share_answers) as integer) as detractor_share_answers,
        cast(sum(detractor_share_detractors) as integer) as detractor_share_detractors,
        cast(sum(csat_answers) as integer) as csat_answers,
        cast(sum(csat_total) as integer) as csat_total,
        cast(sum(sentiment_total) as decimal(18, 4)) as sentiment_total,
        cast(sum(sentiment_comments) as integer) as sentiment_comments,
        cast(sum(share_milestones_due) as integer) as share_milestones_due,
        cast(sum(share_milestones_achieved) as integer) as share_milestones_achieved,
        cast(sum(delay_milestones_due) as integer) as delay_milestones_due,
        cast(sum(delay_milestones_achieved) as integer) as delay_milestones_achieved,
        cast(sum(delay_total_days) as integer) as delay_total_days,
        cast(sum(first_value_milestones_due) as integer) as first_value_milestones_due,
        any_value(resolution_median) as resolution_median,
        any_value(oldest_unpaid) as oldest_unpaid,
        any_value(latest_nps_answer) as latest_nps_answer,
        any_value(valid_csm_rating) as valid_csm_rating
    from (
        select * from ticket_deltas
        union all by name
        select * from invoice_deltas
        union all by name
        select * from response_deltas
        union all by name
        select * from milestone_deltas
        union all by name
        select account_key, day, resolution_median from resolution_median_changes
        union all by name
        select account_key, day, oldest_unpaid from oldest_unpaid_changes
        union all by name
        select account_key, day, latest_nps_answer from latest_nps_changes
        union all by name
        select account_key, day, valid_csm_rating from csm_rating_changes
    ) as changes
    inner join account_spans
        on changes.account_key = account_spans.account_key
    where changes.day <= account_spans.last_day
    group by changes.account_key, changes.day
),

record_states as (
    select
        account_key,
        day,
        {
            'tickets_opened': coalesce(sum(tickets_opened) over account_history, 0),
            'urgency_tickets_opened': coalesce(sum(urgency_tickets_opened) over account_history, 0),
            'urgency_high_priority_tickets': coalesce(sum(urgency_high_priority_tickets) over account_history, 0),
            'rated_tickets': coalesce(sum(rated_tickets) over account_history, 0),
            'rating_total': coalesce(sum(rating_total) over account_history, 0),
            'resolution_median': last_value(resolution_median ignore nulls) over account_history,
            'on_time_invoices_due': coalesce(sum(on_time_invoices_due) over account_history, 0),
            'invoices_paid_on_time': coalesce(sum(invoices_paid_on_time) over account_history, 0),
            'overdue_invoices_due': coalesce(sum(overdue_invoices_due) over account_history, 0),
            'oldest_unpaid': last_value(oldest_unpaid ignore nulls) over account_history,
            'outstanding_invoices_due': coalesce(sum(outstanding_invoices_due) over account_history, 0),
            'outstanding_amount': coalesce(sum(outstanding_amount) over account_history, 0),
            'nps_answers': coalesce(sum(nps_answers) over account_history, 0),
            'nps_promoters': coalesce(sum(nps_promoters) over account_history, 0),
            'nps_detractors': coalesce(sum(nps_detractors) over account_history, 0),
            'detractor_share_answers': coalesce(sum(detractor_share_answers) over account_history, 0),
            'detractor_share_detractors': coalesce(sum(detractor_share_detractors) over account_history, 0),
            'csat_answers': coalesce(sum(csat_answers) over account_history, 0),
            'csat_total': coalesce(sum(csat_total) over account_history, 0),
            'sentiment_total': coalesce(sum(sentiment_total) over account_history, 0),
            'sentiment_comments': coalesce(sum(sentiment_comments) over account_history, 0),
            'latest_nps_answer': last_value(latest_nps_answer ignore nulls) over account_history,
            'valid_csm_rating': last_value(valid_csm_rating ignore nulls) over account_history,
            'share_milestones_due': coalesce(sum(share_milestones_due) over account_history, 0),
            'share_milestones_achieved': coalesce(sum(share_milestones_achieved) over account_history, 0),
            'delay_milestones_due': coalesce(sum(delay_milestones_due) over account_history, 0),
            'delay_milestones_achieved': coalesce(sum(delay_milestones_achieved) over account_history, 0),
            'delay_total_days': coalesce(sum(delay_total_days) over account_history, 0),
            'first_value_milestones_due': coalesce(sum(first_value_milestones_due) over account_history, 0)
        } as records
    from record_changes
    window account_history as (partition by account_key order by day rows between unbounded preceding and current row)
),

-- Usage changes nearly every day, so its changes meet the scored days in one row per account and day.
usage_changes as (
    select
        changes.account_key,
        changes.day,
        bool_or(changes.is_scored_day) as is_scored_day,
        cast(sum(changes.ratio_active_users) as integer) as ratio_active_users,
        cast(sum(changes.trend_active_users) as integer) as trend_active_users,
        cast(sum(changes.trend_previous_active_users) as integer) as trend_previous_active_users,
        cast(sum(changes.day_events) as integer) as day_events,
        bit_or(changes.feature_mask) as feature_mask
    from (
        select * from scored_days
        union all by name
        select * from user_presence_deltas
        union all by name
        select account_key, activity_date as day, day_events, feature_mask from account_activity_days
    ) as changes
    inner join account_spans
        on changes.account_key = account_spans.account_key
    where changes.day <= account_spans.last_day
    group by changes.account_key, changes.day
),

-- Active users add up their interval changes; active days, events and features are read off the days
-- of each window (one sort serves every frame).
running_totals as (
    select
        usage_totals.*,
        record_states.records
    from (
        select
            account_key,
            day as score_date,
            coalesce(sum(ratio_active_users) over account_history, 0) as ratio_active_users,
            coalesce(sum(trend_active_users) over account_history, 0) as trend_active_users,
            coalesce(sum(trend_previous_active_users) over account_history, 0) as trend_previous_active_users,
            count(day_events) over active_days_window as active_days,
            coalesce(sum(day_events) over events_window, 0) as window_events,
            coalesce(bit_count(bit_or(feature_mask) over features_window), 0) as features_used
        from usage_changes
        cross join measure_config
        window
            account_history as (partition by account_key order by day rows between unbounded preceding and current row),
            active_days_window as (
                partition by account_key order by day
                range between active_days_window_days - 1 preceding and current row
            ),
            events_window as (
                partition by account_key order by day
                range between events_per_seat_window_days - 1 preceding and current row
            ),
            features_window as (
                partition by account_key order by day
                range between feature_breadth_window_days - 1 preceding and current row
            )
        qualify is_scored_day
    ) as usage_totals
    -- The record state of a day is the latest one on or before it.
    asof left join record_states
        on usage_totals.account_key = record_states.account_key
        and usage_totals.score_date >= record_states.day
),

-- Measures: one wide row per account-day --------------------------------------------------------------

-- What the measures need of an account besides its running totals.
scored_accounts as (
    select
        account_spans.account_key,
        account_spans.account_id,
        account_spans.segment,
        account_spans.licensed_seats,
        account_spans.arr_amount,
        account_spans.contract_start_date,
        first_activity.first_activity_date,
        first_value_milestones.first_value_target_date,
        first_value_milestones.first_value_achieved_date
    from account_spans
    left join first_activity
        on account_spans.account_key = first_activity.account_key
    left join first_value_milestones
        on account_spans.account_key = first_value_milestones.account_key
),

-- The lifecycle stage comes from the contract dates: onboarding after the start, renewal before the
-- next anniversary (the models' formula, leap days included), adopted otherwise.
account_days as (
    select
        running_totals.*,
        scored_accounts.* exclude (account_key),
        date_diff('day', scored_accounts.contract_start_date, running_totals.score_date) as days_since_contract_start,
        cast(
            scored_accounts.contract_start_date
            + cast(cast(floor(days_since_contract_start / 365.25) as integer) + 1 as bigint) * interval 1 year
            as date
        ) as next_anniversary_date,
        days_since_contract_start >= bounds.onboarding_days as is_past_onboarding,
        case
            when days_since_contract_start < bounds.onboarding_days then 'onboarding'
            when date_diff('day', running_totals.score_date, next_anniversary_date) <= bounds.renewal_window_days
                then 'renewal'
            else 'adopted'
        end as lifecycle_stage
    from running_totals
    inner join scored_accounts
        on running_totals.account_key = scored_accounts.account_key
    cross join bounds
),

account_day_measures as materialized (
    select
        account_day.account_id,
        account_day.segment,
        account_day.lifecycle_stage,
        scorecard_assignments.scorecard,
        account_day.score_date >= bounds.history_start_date as is_history_day,
        account_day.score_date between bounds.reference_start_date and bounds.reference_end_date as is_reference_day,
        account_day.score_date,
        -- Usage. A new account that has not used the product yet has no usage data; after its first
        -- activity, or once onboarding is over, a window without events is zero usage.
        case
            when not account_day.is_past_onboarding
                and (account_day.first_activity_date is null or account_day.first_activity_date > account_day.score_date)
                then true
            else false
        end as has_not_started_usage,
        case when not has_not_started_usage
            then cast(account_day.ratio_active_users as double) / nullif(account_day.licensed_seats, 0)
        end as active_user_ratio,
        case when not has_not_started_usage then cast(account_day.active_days as double) end as active_days,
        case when not has_not_started_usage then cast(account_day.features_used as double) end as feature_breadth,
        case when not has_not_started_usage
            then cast(account_day.window_events as double) / nullif(account_day.licensed_seats, 0)
        end as events_per_seat,
        case when not has_not_started_usage and account_day.trend_previous_active_users > 0
            then cast(account_day.trend_active_users - account_day.trend_previous_active_users as double)
                / account_day.trend_previous_active_users
        end as active_users_trend,
        -- Support. Ticket volume is 0, not missing, once the helpdesk feed has its first ticket.
        case when bounds.first_ticket_date <= account_day.score_date
            then cast(coalesce(account_day.records.tickets_opened, 0) as double) / nullif(account_day.licensed_seats, 0)
        end as tickets_per_seat,
        case when account_day.records.urgency_tickets_opened > 0
            then cast(account_day.records.urgency_high_priority_tickets as double) / account_day.records.urgency_tickets_opened
        end as urgent_ticket_share,
        cast(account_day.records.resolution_median.hours as double) as median_resolution_hours,
        case when account_day.records.rated_tickets > 0 then cast(account_day.records.rating_total as double) / account_day.records.rated_tickets end
            as ticket_csat,
        -- Payment. No invoice due in the window: nothing to judge.
        case when account_day.records.on_time_invoices_due > 0
            then cast(account_day.records.invoices_paid_on_time as double) / account_day.records.on_time_invoices_due
        end as on_time_payment_share,
        case when account_day.records.overdue_invoices_due > 0
            then cast(coalesce(account_day.score_date - account_day.records.oldest_unpaid.due_date, 0) as double)
        end as max_days_overdue,
        case when account_day.records.outstanding_invoices_due > 0 and account_day.arr_amount > 0
            then cast(account_day.records.outstanding_amount as double) / cast(account_day.arr_amount as double)
        end as outstanding_amount_ratio,
        -- Feedback.
        case when account_day.records.nps_answers > 0
            then 100.0 * cast(account_day.records.nps_promoters - account_day.records.nps_detractors as double) / account_day.records.nps_answers
        end as nps,
        case when account_day.records.latest_nps_answer.responded_date
                >= account_day.score_date + (1 - measure_config.latest_nps_score_window_days)
            then cast(account_day.records.latest_nps_answer.score as double)
        end as latest_nps_score,
        case when account_day.records.detractor_share_answers > 0
            then cast(account_day.records.detractor_share_detractors as double) / account_day.records.detractor_share_answers
        end as detractor_share,
        case when account_day.records.csat_answers > 0 then cast(account_day.records.csat_total as double) / account_day.records.csat_answers end
            as survey_csat,
        cast(account_day.records.valid_csm_rating.rating as double) as csm_sentiment,
        case when account_day.records.sentiment_comments > 0
            then cast(account_day.records.sentiment_total as double) / account_day.records.sentiment_comments
        end as comment_sentiment,
        -- Milestones.
        case when account_day.records.share_milestones_due > 0
            then cast(account_day.records.share_milestones_achieved as double) / account_day.records.share_milestones_due
        end as milestones_achieved_share,
        case when account_day.records.delay_milestones_due > 0 and account_day.records.delay_milestones_achieved > 0
            then case
                when account_day.records.delay_total_days < 0 then 0.0
                else cast(account_day.records.delay_total_days as double) / account_day.records.delay_milestones_achieved
            end
        end as milestone_delay_days,
        case when account_day.records.first_value_milestones_due > 0
            then cast(case
                when account_day.first_value_target_date is null
                    or account_day.first_value_target_date > account_day.score_date
                    or account_day.first_value_target_date
                        < account_day.score_date + (1 - measure_config.days_to_first_value_window_days)
                    then null
                when account_day.first_value_achieved_date <= account_day.score_date
                    then account_day.first_value_achieved_date - account_day.contract_start_date
                else account_day.score_date - account_day.contract_start_date
            end as double)
        end as days_to_first_value
    from account_days as account_day
    cross join bounds
    cross join measure_config
    left join scorecard_assignments
        on account_day.segment = scorecard_assignments.segment
        and account_day.lifecycle_stage = scorecard_assignments.lifecycle_stage
),

-- Percentile yardstick: per segment, the values at percentiles 0-100 of the reference period's
-- account-days, the value at position floor(p * (n - 1) / 100) + 1 of the sorted values. One row holds
-- the segments and their cut values, 128 places per segment (the 101 cut values padded with infinity),
-- so that a day reads its segment's cut values by position instead of carrying a copy of them.
events_per_seat_reference as (
    select
        list(segment order by segment) as segments,
        flatten(list(list_resize(cut_values, 128, cast('infinity' as double)) order by segment)) as cut_values
    from (
        select
            segment,
            list_transform(
                range(0, 101),
                lambda percentile: sorted_values[cast(floor(percentile * (len(sorted_values) - 1) / 100.0) as integer) + 1]
            ) as cut_values
        from (
            select segment, list(events_per_seat order by events_per_seat) as sorted_values
            from account_day_measures
            where is_reference_day and events_per_seat is not null
            group by segment
        )
    )
),

-- Points: linear ramps, bands and percentile ranks; six-decimal fixed point as macro score_value -------

measure_points as (
    select
        days.*,
        cast(round(case
            when active_user_ratio is null then null
            when (active_user_ratio - active_user_ratio_floor_value)
                / nullif(active_user_ratio_target_value - active_user_ratio_floor_value, 0) <= 0 then 0.0
            when (active_user_ratio - active_user_ratio_floor_value)
                / nullif(active_user_ratio_target_value - active_user_ratio_floor_value, 0) >= 1 then 100.0
            else 100.0 * (active_user_ratio - active_user_ratio_floor_value)
                / nullif(active_user_ratio_target_value - active_user_ratio_floor_value, 0)
        end, 6) as decimal(10, 6)) as active_user_ratio_points,
        cast(round(case
            when active_days is null then null
            when (active_days - active_days_floor_value)
                / nullif(active_days_target_value - active_days_floor_value, 0) <= 0 then 0.0
            when (active_days - active_days_floor_value)
                / nullif(active_days_target_value - active_days_floor_value, 0) >= 1 then 100.0
            else 100.0 * (active_days - active_days_floor_value)
                / nullif(active_days_target_value - active_days_floor_value, 0)
        end, 6) as decimal(10, 6)) as active_days_points,
        cast(round(case
            when feature_breadth is null then null
            when (feature_breadth - feature_breadth_floor_value)
                / nullif(feature_breadth_target_value - feature_breadth_floor_value, 0) <= 0 then 0.0
            when (feature_breadth - feature_breadth_floor_value)
                / nullif(feature_breadth_target_value - feature_breadth_floor_value, 0) >= 1 then 100.0
            else 100.0 * (feature_breadth - feature_breadth_floor_value)
                / nullif(feature_breadth_target_value - feature_breadth_floor_value, 0)
        end, 6) as decimal(10, 6)) as feature_breadth_points,
        -- Higher is better: the highest percentile whose cut value is at or below the value (0 if none).
        -- Lower is better: 100 minus the lowest percentile whose cut value is at or above it (0 if none).
        -- Cut values rise with the percentile, so both are counts of cut values below a bound (binary
        -- search below); no reference for the segment means no points.
        cast(round(case
            when events_per_seat is null or cut_offset is null then null
            when events_per_seat_direction = 'higher_is_better' then greatest(cuts_at_or_below - 1, 0)
            else 100 - least(cuts_below, 100)
        end, 6) as decimal(10, 6)) as events_per_seat_points,
        cast(round(case
            when active_users_trend is null then null
            when (active_users_trend - active_users_trend_floor_value)
                / nullif(active_users_trend_target_value - active_users_trend_floor_value, 0) <= 0 then 0.0
            when (active_users_trend - active_users_trend_floor_value)
                / nullif(active_users_trend_target_value - active_users_trend_floor_value, 0) >= 1 then 100.0
            else 100.0 * (active_users_trend - active_users_trend_floor_value)
                / nullif(active_users_trend_target_value - active_users_trend_floor_value, 0)
        end, 6) as decimal(10, 6)) as active_users_trend_points,
        cast(round(case
            when tickets_per_seat is null then null
            else list_max(list_transform(
                list_filter(tickets_per_seat_bands, lambda band:
                    (band.lower_bound is null or tickets_per_seat >= band.lower_bound)
                    and (band.upper_bound is null or tickets_per_seat < band.upper_bound)),
                lambda band: band.points
            ))
        end, 6) as decimal(10, 6)) as tickets_per_seat_points,
        cast(round(case
            when urgent_ticket_share is null then null
            when (urgent_ticket_share - urgent_ticket_share_floor_value)
                / nullif(urgent_ticket_share_target_value - urgent_ticket_share_floor_value, 0) <= 0 then 0.0
            when (urgent_ticket_share - urgent_ticket_share_floor_value)
                / nullif(urgent_ticket_share_target_value - urgent_ticket_share_floor_value, 0) >= 1 then 100.0
            else 100.0 * (urgent_ticket_share - urgent_ticket_share_floor_value)
                / nullif(urgent_ticket_share_target_value - urgent_ticket_share_floor_value, 0)
        end, 6) as decimal(10, 6)) as urgent_ticket_share_points,
        cast(round(case
            when median_resolution_hours is null then null
            when (median_resolution_hours - median_resolution_hours_floor_value)
                / nullif(median_resolution_hours_target_value - median_resolution_hours_floor_value, 0) <= 0 then 0.0
            when (median_resolution_hours - median_resolution_hours_floor_value)
                / nullif(median_resolution_hours_target_value - median_resolution_hours_floor_value, 0) >= 1 then 100.0
            else 100.0 * (median_resolution_hours - median_resolution_hours_floor_value)
                / nullif(median_resolution_hours_target_value - median_resolution_hours_floor_value, 0)
        end, 6) as decimal(10, 6)) as median_resolution_hours_points,
        cast(round(case
            when ticket_csat is null then null
            when (ticket_csat - ticket_csat_floor_value)
                / nullif(ticket_csat_target_value - ticket_csat_floor_value, 0) <= 0 then 0.0
            when (ticket_csat - ticket_csat_floor_value)
                / nullif(ticket_csat_target_value - ticket_csat_floor_value, 0) >= 1 then 100.0
            else 100.0 * (ticket_csat - ticket_csat_floor_value)
                / nullif(ticket_csat_target_value - ticket_csat_floor_value, 0)
        end, 6) as decimal(10, 6)) as ticket_csat_points,
        cast(round(case
            when on_time_payment_share is null then null
            when (on_time_payment_share - on_time_payment_share_floor_value)
                / nullif(on_time_payment_share_target_value - on_time_payment_share_floor_value, 0) <= 0 then 0.0
            when (on_time_payment_share - on_time_payment_share_floor_value)
                / nullif(on_time_payment_share_target_value - on_time_payment_share_floor_value, 0) >= 1 then 100.0
            else 100.0 * (on_time_payment_share - on_time_payment_share_floor_value)
                / nullif(on_time_payment_share_target_value - on_time_payment_share_floor_value, 0)
        end, 6) as decimal(10, 6)) as on_time_payment_share_points,
        cast(round(case
            when max_days_overdue is null then null
            else list_max(list_transform(
                list_filter(max_days_overdue_bands, lambda band:
                    (band.lower_bound is null or max_days_overdue >= band.lower_bound)
                    and (band.upper_bound is null or max_days_overdue < band.upper_bound)),
                lambda band: band.points
            ))
        end, 6) as decimal(10, 6)) as max_days_overdue_points,
        cast(round(case
            when outstanding_amount_ratio is null then null
            when (outstanding_amount_ratio - outstanding_amount_ratio_floor_value)
                / nullif(outstanding_amount_ratio_target_value - outstanding_amount_ratio_floor_value, 0) <= 0 then 0.0
            when (outstanding_amount_ratio - outstanding_amount_ratio_floor_value)
                / nullif(outstanding_amount_ratio_target_value - outstanding_amount_ratio_floor_value, 0) >= 1 then 100.0
            else 100.0 * (outstanding_amount_ratio - outstanding_amount_ratio_floor_value)
                / nullif(outstanding_amount_ratio_target_value - outstanding_amount_ratio_floor_value, 0)
        end, 6) as decimal(10, 6)) as outstanding_amount_ratio_points,
        cast(round(case
            when nps is null then null
            else list_max(list_transform(
                list_filter(nps_bands, lambda band:
                    (band.lower_bound is null or nps >= band.lower_bound)
                    and (band.upper_bound is null or nps < band.upper_bound)),
                lambda band: band.points
            ))
        end, 6) as decimal(10, 6)) as nps_points,
        cast(round(case
            when latest_nps_score is null then null
            when (latest_nps_score - latest_nps_score_floor_value)
                / nullif(latest_nps_score_target_value - latest_nps_score_floor_value, 0) <= 0 then 0.0
            when (latest_nps_score - latest_nps_score_floor_value)
                / nullif(latest_nps_score_target_value - latest_nps_score_floor_value, 0) >= 1 then 100.0
            else 100.0 * (latest_nps_score - latest_nps_score_floor_value)
                / nullif(latest_nps_score_target_value - latest_nps_score_floor_value, 0)
        end, 6) as decimal(10, 6)) as latest_nps_score_points,
        cast(round(case
            when detractor_share is null then null
            when (detractor_share - detractor_share_floor_value)
                / nullif(detractor_share_target_value - detractor_share_floor_value, 0) <= 0 then 0.0
            when (detractor_share - detractor_share_floor_value)
                / nullif(detractor_share_target_value - detractor_share_floor_value, 0) >= 1 then 100.0
            else 100.0 * (detractor_share - detractor_share_floor_value)
                / nullif(detractor_share_target_value - detractor_share_floor_value, 0)
        end, 6) as decimal(10, 6)) as detractor_share_points,
        cast(round(case
            when survey_csat is null then null
            when (survey_csat - survey_csat_floor_value)
                / nullif(survey_csat_target_value - survey_csat_floor_value, 0) <= 0 then 0.0
            when (survey_csat - survey_csat_floor_value)
                / nullif(survey_csat_target_value - survey_csat_floor_value, 0) >= 1 then 100.0
            else 100.0 * (survey_csat - survey_csat_floor_value)
                / nullif(survey_csat_target_value - survey_csat_floor_value, 0)
        end, 6) as decimal(10, 6)) as survey_csat_points,
        cast(round(case
            when csm_sentiment is null then null
            when (csm_sentiment - csm_sentiment_floor_value)
                / nullif(csm_sentiment_target_value - csm_sentiment_floor_value, 0) <= 0 then 0.0
            when (csm_sentiment - csm_sentiment_floor_value)
                / nullif(csm_sentiment_target_value - csm_sentiment_floor_value, 0) >= 1 then 100.0
            else 100.0 * (csm_sentiment - csm_sentiment_floor_value)
                / nullif(csm_sentiment_target_value - csm_sentiment_floor_value, 0)
        end, 6) as decimal(10, 6)) as csm_sentiment_points,
        cast(round(case
            when milestones_achieved_share is null then null
            when (milestones_achieved_share - milestones_achieved_share_floor_value)
                / nullif(milestones_achieved_share_target_value - milestones_achieved_share_floor_value, 0) <= 0 then 0.0
            when (milestones_achieved_share - milestones_achieved_share_floor_value)
                / nullif(milestones_achieved_share_target_value - milestones_achieved_share_floor_value, 0) >= 1 then 100.0
            else 100.0 * (milestones_achieved_share - milestones_achieved_share_floor_value)
                / nullif(milestones_achieved_share_target_value - milestones_achieved_share_floor_value, 0)
        end, 6) as decimal(10, 6)) as milestones_achieved_share_points,
        cast(round(case
            when milestone_delay_days is null then null
            when (milestone_delay_days - milestone_delay_days_floor_value)
                / nullif(milestone_delay_days_target_value - milestone_delay_days_floor_value, 0) <= 0 then 0.0
            when (milestone_delay_days - milestone_delay_days_floor_value)
                / nullif(milestone_delay_days_target_value - milestone_delay_days_floor_value, 0) >= 1 then 100.0
            else 100.0 * (milestone_delay_days - milestone_delay_days_floor_value)
                / nullif(milestone_delay_days_target_value - milestone_delay_days_floor_value, 0)
        end, 6) as decimal(10, 6)) as milestone_delay_days_points,
        cast(round(case
            when days_to_first_value is null then null
            when (days_to_first_value - days_to_first_value_floor_value)
                / nullif(days_to_first_value_target_value - days_to_first_value_floor_value, 0) <= 0 then 0.0
            when (days_to_first_value - days_to_first_value_floor_value)
                / nullif(days_to_first_value_target_value - days_to_first_value_floor_value, 0) >= 1 then 100.0
            else 100.0 * (days_to_first_value - days_to_first_value_floor_value)
                / nullif(days_to_first_value_target_value - days_to_first_value_floor_value, 0)
        end, 6) as decimal(10, 6)) as days_to_first_value_points,
        cast(round(case
            when comment_sentiment is null then null
            when (comment_sentiment - comment_sentiment_floor_value)
                / nullif(comment_sentiment_target_value - comment_sentiment_floor_value, 0) <= 0 then 0.0
            when (comment_sentiment - comment_sentiment_floor_value)
                / nullif(comment_sentiment_target_value - comment_sentiment_floor_value, 0) >= 1 then 100.0
            else 100.0 * (comment_sentiment - comment_sentiment_floor_value)
                / nullif(comment_sentiment_target_value - comment_sentiment_floor_value, 0)
        end, 6) as decimal(10, 6)) as comment_sentiment_points
    from (
        select
            account_day_measures.*,
            [active_user_ratio, active_days, feature_breadth, events_per_seat, active_users_trend,
             tickets_per_seat, urgent_ticket_share, median_resolution_hours, ticket_csat, on_time_payment_share,
             max_days_overdue, outstanding_amount_ratio, nps, latest_nps_score, detractor_share,
             survey_csat, csm_sentiment, milestones_achieved_share, milestone_delay_days, days_to_first_value,
             comment_sentiment] as measure_values,
            -- Where the day's segment starts in the cut values (null: the segment has no reference).
            (list_position(reference.segments, account_day_measures.segment) - 1) * 128 as cut_offset,
            -- Binary search over the segment's rising cut values: how many lie at or below (below) the value.
            case when reference.cut_values[cut_offset + 64] <= events_per_seat then 64 else 0 end as at_or_below_after_64,
            at_or_below_after_64 + case when reference.cut_values[cut_offset + at_or_below_after_64 + 32] <= events_per_seat then 32 else 0 end
                as at_or_below_after_32,
            at_or_below_after_32 + case when reference.cut_values[cut_offset + at_or_below_after_32 + 16] <= events_per_seat then 16 else 0 end
                as at_or_below_after_16,
            at_or_below_after_16 + case when reference.cut_values[cut_offset + at_or_below_after_16 + 8] <= events_per_seat then 8 else 0 end
                as at_or_below_after_8,
            at_or_below_after_8 + case when reference.cut_values[cut_offset + at_or_below_after_8 + 4] <= events_per_seat then 4 else 0 end
                as at_or_below_after_4,
            at_or_below_after_4 + case when reference.cut_values[cut_offset + at_or_below_after_4 + 2] <= events_per_seat then 2 else 0 end
                as at_or_below_after_2,
            at_or_below_after_2 + case when reference.cut_values[cut_offset + at_or_below_after_2 + 1] <= events_per_seat then 1 else 0 end
                as cuts_at_or_below,
            case when reference.cut_values[cut_offset + 64] < events_per_seat then 64 else 0 end as below_after_64,
            below_after_64 + case when reference.cut_values[cut_offset + below_after_64 + 32] < events_per_seat then 32 else 0 end
                as below_after_32,
            below_after_32 + case when reference.cut_values[cut_offset + below_after_32 + 16] < events_per_seat then 16 else 0 end
                as below_after_16,
            below_after_16 + case when reference.cut_values[cut_offset + below_after_16 + 8] < events_per_seat then 8 else 0 end
                as below_after_8,
            below_after_8 + case when reference.cut_values[cut_offset + below_after_8 + 4] < events_per_seat then 4 else 0 end
                as below_after_4,
            below_after_4 + case when reference.cut_values[cut_offset + below_after_4 + 2] < events_per_seat then 2 else 0 end
                as below_after_2,
            below_after_2 + case when reference.cut_values[cut_offset + below_after_2 + 1] < events_per_seat then 1 else 0 end
                as cuts_below
        from account_day_measures
        cross join events_per_seat_reference as reference
        where account_day_measures.is_history_day
    ) as days
    cross join measure_config
    cross join band_config
    cross join unsupported_measure_settings
    where unsupported_measure_settings.problems = 0
),

-- Weights. A measure's weight in the scorecard is its component's weight times its weight inside the
-- component; measures without data drop out and their weight is spread over the measures with data. So
-- per component: the points weighted inside it and the weight of its measures with data, which give the
-- component score (for display) and, times the component's weight, the score's parts. Exact decimals of
-- the models' types, divided once, so that the same doubles come out.
component_sums as (
    select
        measure_points.*,
        scorecard_config.* exclude (scorecard),
        cast(
            coalesce(active_user_ratio_measure_weight * active_user_ratio_points, 0)
            + coalesce(active_days_measure_weight * active_days_points, 0)
            + coalesce(feature_breadth_measure_weight * feature_breadth_points, 0)
            + coalesce(events_per_seat_measure_weight * events_per_seat_points, 0)
            + coalesce(active_users_trend_measure_weight * active_users_trend_points, 0)
            as decimal(38, 12)
        ) as usage_weighted_points,
        cast(
            case when active_user_ratio_points is not null then active_user_ratio_measure_weight else 0 end
            + case when active_days_points is not null then active_days_measure_weight else 0 end
            + case when feature_breadth_points is not null then feature_breadth_measure_weight else 0 end
            + case when events_per_seat_points is not null then events_per_seat_measure_weight else 0 end
            + case when active_users_trend_points is not null then active_users_trend_measure_weight else 0 end
            as decimal(38, 6)
        ) as usage_weight_with_data,
        cast(
            coalesce(tickets_per_seat_measure_weight * tickets_per_seat_points, 0)
            + coalesce(urgent_ticket_share_measure_weight * urgent_ticket_share_points, 0)
            + coalesce(median_resolution_hours_measure_weight * median_resolution_hours_points, 0)
            + coalesce(ticket_csat_measure_weight * ticket_csat_points, 0)
            as decimal(38, 12)
        ) as support_weighted_points,
        cast(
            case when tickets_per_seat_points is not null then tickets_per_seat_measure_weight else 0 end
            + case when urgent_ticket_share_points is not null then urgent_ticket_share_measure_weight else 0 end
            + case when median_resolution_hours_points is not null then median_resolution_hours_measure_weight else 0 end
            + case when ticket_csat_points is not null then ticket_csat_measure_weight else 0 end
            as decimal(38, 6)
        ) as support_weight_with_data,
        cast(
            coalesce(on_time_payment_share_measure_weight * on_time_payment_share_points, 0)
            + coalesce(max_days_overdue_measure_weight * max_days_overdue_points, 0)
            + coalesce(outstanding_amount_ratio_measure_weight * outstanding_amount_ratio_points, 0)
            as decimal(38, 12)
        ) as payment_weighted_points,
        cast(
            case when on_time_payment_share_points is not null then on_time_payment_share_measure_weight else 0 end
            + case when max_days_overdue_points is not null then max_days_overdue_measure_weight else 0 end
            + case when outstanding_amount_ratio_points is not null then outstanding_amount_ratio_measure_weight else 0 end
            as decimal(38, 6)
        ) as payment_weight_with_data,
        cast(
            coalesce(nps_measure_weight * nps_points, 0)
            + coalesce(latest_nps_score_measure_weight * latest_nps_score_points, 0)
            + coalesce(detractor_share_measure_weight * detractor_share_points, 0)
            + coalesce(survey_csat_measure_weight * survey_csat_points, 0)
            + coalesce(csm_sentiment_measure_weight * csm_sentiment_points, 0)
            + coalesce(comment_sentiment_measure_weight * comment_sentiment_points, 0)
            as decimal(38, 12)
        ) as feedback_weighted_points,
        cast(
            case when nps_points is not null then nps_measure_weight else 0 end
            + case when latest_nps_score_points is not null then latest_nps_score_measure_weight else 0 end
            + case when detractor_share_points is not null then detractor_share_measure_weight else 0 end
            + case when survey_csat_points is not null then survey_csat_measure_weight else 0 end
            + case when csm_sentiment_points is not null then csm_sentiment_measure_weight else 0 end
            + case when comment_sentiment_points is not null then comment_sentiment_measure_weight else 0 end
            as decimal(38, 6)
        ) as feedback_weight_with_data,
        cast(
            coalesce(milestones_achieved_share_measure_weight * milestones_achieved_share_points, 0)
            + coalesce(milestone_delay_days_measure_weight * milestone_delay_days_points, 0)
            + coalesce(days_to_first_value_measure_weight * days_to_first_value_points, 0)
            as decimal(38, 12)
        ) as milestones_weighted_points,
        cast(
            case when milestones_achieved_share_points is not null then milestones_achieved_share_measure_weight else 0 end
            + case when milestone_delay_days_points is not null then milestone_delay_days_measure_weight else 0 end
            + case when days_to_first_value_points is not null then days_to_first_value_measure_weight else 0 end
            as decimal(38, 6)
        ) as milestones_weight_with_data,
        -- Caps test a measure's value (weighted or not, with points or not); the strictest that holds wins.
        list_filter(score_config.caps, lambda cap:
            (cap.comparison = 'greater_than' and measure_values[cap.measure_position] > cap.threshold)
            or (cap.comparison = 'less_than' and measure_values[cap.measure_position] < cap.threshold)
        )[1] as strictest_cap
    from measure_points
    cross join score_config
    left join scorecard_config
        on measure_points.scorecard = scorecard_config.scorecard
),

weighed as (
    select
        *,
        cast(
            usage_weight * usage_weight_with_data
            + support_weight * support_weight_with_data
            + payment_weight * payment_weight_with_data
            + feedback_weight * feedback_weight_with_data
            + milestones_weight * milestones_weight_with_data
            as decimal(38, 12)
        ) as weight_with_data,
        cast(
            usage_weight * usage_weighted_points
            + support_weight * support_weighted_points
            + payment_weight * payment_weighted_points
            + feedback_weight * feedback_weighted_points
            + milestones_weight * milestones_weighted_points
            as decimal(38, 18)
        ) as weighted_points,
        cast(usage_weighted_points as double) / nullif(usage_weight_with_data, 0) as raw_usage_score,
        cast(support_weighted_points as double) / nullif(support_weight_with_data, 0) as raw_support_score,
        cast(payment_weighted_points as double) / nullif(payment_weight_with_data, 0) as raw_payment_score,
        cast(feedback_weighted_points as double) / nullif(feedback_weight_with_data, 0) as raw_feedback_score,
        cast(milestones_weighted_points as double) / nullif(milestones_weight_with_data, 0) as raw_milestones_score
    from component_sums
),

-- Coverage below the scorecard's minimum: no score. A cap only ever lowers a score.
decided as (
    select
        *,
        cast(round(
            case when weight_configured > 0 then cast(weight_with_data as double) / weight_configured else 0 end, 6
        ) as decimal(10, 6)) as coverage,
        -- The contributions are rounded so that they add up exactly to this total.
        case
            when weight_with_data is null then null
            when weight_with_data > 0 then cast(round(cast(weighted_points as double) / weight_with_data, 6) as decimal(10, 6))
            else cast(0 as decimal(10, 6))
        end as total_score,
        coalesce(coverage, 0) > 0 and coverage >= min_coverage as has_enough_data,
        strictest_cap.max_score is not null and strictest_cap.max_score < total_score as is_capped
    from weighed
),

final as (
    select
        account_id,
        score_date,
        segment,
        lifecycle_stage,
        scorecard,
        case when has_enough_data then 'scored' else 'insufficient_data' end as score_status,
        case
            when not has_enough_data then null
            when is_capped then strictest_cap.max_score
            else total_score
        end as health_score,
        list_filter(health_bands, lambda band:
            health_score >= band.min_score
            and (health_score < band.max_score or (band.max_score = 100 and health_score = 100))
        )[1].band as health_band,
        coverage,
        case when has_enough_data then total_score end as uncapped_score,
        cast(case when has_enough_data and is_capped then strictest_cap.max_score - total_score else 0 end as decimal(10, 6))
            as cap_adjustment,
        case when has_enough_data and is_capped then strictest_cap.cap end as capped_by,
        cast(round(raw_usage_score, 6) as decimal(10, 6)) as usage_score,
        cast(round(raw_support_score, 6) as decimal(10, 6)) as support_score,
        cast(round(raw_payment_score, 6) as decimal(10, 6)) as payment_score,
        cast(round(raw_feedback_score, 6) as decimal(10, 6)) as feedback_score,
        cast(round(raw_milestones_score, 6) as decimal(10, 6)) as milestones_score
    from decided
    cross join score_config
)

select * from final
