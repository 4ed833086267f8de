-- The health of each account family: one row per parent account and day on which at least one account below
-- it (at any level within seeds/hierarchy_settings.csv `max_depth`) is a customer. The family is the parent's
-- own account and every account below it: a group's relationship includes the contract of its head office,
-- and a red head office must not hide behind green subsidiaries. Its score is the ARR-weighted mean of the
-- scores of its members that have one that day, ARR in the reporting currency at the day's rate, so that a
-- large contract counts for more than a small one whatever currency each pays in. An account with ARR 0
-- (a pilot, a free tier) weighs nothing; a family whose scored members all have ARR 0 gets their plain mean
-- rather than no score. A churned child leaves the family on the day its cancellation takes effect, as it
-- leaves the score history; before that it counts like any other.
-- Incremental like the score history: a build rewrites the days it scored (all stored days the first time,
-- and on --full-refresh, since everything here is computed from the stored history). It is rebuilt whole with
-- the history (REBUILD_HISTORY): a history rescored up to an earlier day holds no later days, and the families
-- of those days go with them.
{{ config(
    materialized='incremental',
    full_refresh=var('rebuild_history', false),
    on_schema_change='append_new_columns',
    **incremental_replacement('score_date', unique_key='score_date'),
) }}
-- depends_on: {{ ref('int_account_days_assigned') }}

with history as (
    select account_id, health_score, score_date
    from {{ ref('account_health_history') }}
    {%- if is_incremental() %}
    where score_date >= (
        select min(score_date) from {{ ref('int_account_days_assigned') }} where is_history_day
    )
    {%- endif %}
),

ancestors as (
    select * from {{ ref('int_account_ancestors_resolved') }}
    where is_within_max_depth
),

versions as (
    select * from {{ ref('int_account_versions_recorded') }}
),

exchange_rates as (
    select * from {{ ref('int_exchange_rates_dated') }}
),

children as (
    select
        ancestors.ancestor_account_id as parent_account_id,
        history.account_id,
        history.health_score,
        false as is_parent,
        history.score_date
    from history
    inner join ancestors
        on history.account_id = ancestors.account_id
        and (ancestors.valid_from_date is null or history.score_date >= ancestors.valid_from_date)
        and (ancestors.valid_to_date is null or history.score_date <= ancestors.valid_to_date)
),

families as (
    select distinct parent_account_id, score_date from children
),

members as (
    select * from children
    union all
    select
        families.parent_account_id,
        history.account_id,
        history.health_score,
        true as is_parent,
        history.score_date
    from families
    inner join history
        on families.parent_account_id = history.account_id
        and families.score_date = history.score_date
),

members_valued as (
    select
        members.*,
        versions.account_name,
        {{ to_reporting_currency('versions.arr_amount', 'exchange_rates') }} as arr_reporting_amount
    from members
    inner join versions
        on members.account_id = versions.account_id
        and {{ version_valid_on('versions', 'members.score_date') }}
    left join exchange_rates
        on versions.currency_code = exchange_rates.currency_code
        and {{ exchange_rate_valid_on('exchange_rates', 'members.score_date') }}
),

weakest_children as (
    select *
    from (
        select
            parent_account_id,
            score_date,
            account_id as weakest_child_account_id,
            account_name as weakest_child_account_name,
            health_score as weakest_child_health_score,
            row_number() over (
                partition by parent_account_id, score_date order by health_score, account_id
            ) as weakness_rank
        from members_valued
        where not is_parent and health_score is not null
    ) as ranked
    where weakness_rank = 1
),

rolled_up as (
    select
        parent_account_id,
        score_date,
        sum(case when not is_parent then 1 else 0 end) as child_account_count,
        count(health_score) as scored_account_count,
        coalesce(sum(case when health_score is not null then arr_reporting_amount end), 0) as scored_arr_reporting_amount,
        sum(health_score * arr_reporting_amount) as weighted_score_sum,
        avg(health_score) as mean_health_score,
        max(case when is_parent then health_score end) as parent_health_score,
        sum(arr_reporting_amount) as arr_reporting_amount
    from members_valued
    group by parent_account_id, score_date
),

scored as (
    select
        rolled_up.*,
        cast(
            case
                when rolled_up.scored_arr_reporting_amount > 0
                    then rolled_up.weighted_score_sum / rolled_up.scored_arr_reporting_amount
                else rolled_up.mean_health_score
            end as decimal(10, 6)
        ) as health_score
    from rolled_up
),

final as (
    select
        scored.parent_account_id,
        parents.account_name as parent_account_name,
        scored.health_score,
        bands.band as health_band,
        weakest_children.weakest_child_account_id,
        weakest_children.weakest_child_account_name,
        {{ reporting_currency_code() }} as reporting_currency_code,
        weakest_children.weakest_child_health_score,
        scored.parent_health_score,
        cast(scored.child_account_count as integer) as child_account_count,
        cast(scored.scored_account_count as integer) as scored_account_count,
        cast(scored.arr_reporting_amount as decimal(18, 2)) as arr_reporting_amount,
        cast(scored.scored_arr_reporting_amount as decimal(18, 2)) as scored_arr_reporting_amount,
        scored.score_date,
        cast({{ dbt.current_timestamp() }} as timestamp) as scored_at
    from scored
    inner join versions as parents
        on scored.parent_account_id = parents.account_id
        and {{ version_valid_on('parents', 'scored.score_date') }}
    left join weakest_children
        on scored.parent_account_id = weakest_children.parent_account_id
        and scored.score_date = weakest_children.score_date
    left join {{ ref('health_bands') }} as bands
        on scored.health_score >= bands.min_score
        and (scored.health_score < bands.max_score or (bands.max_score = 100 and scored.health_score = 100))
)

select * from final
