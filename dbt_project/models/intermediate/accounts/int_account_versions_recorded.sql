-- The CRM's account attributes as they were known day by day. The accounts export is a snapshot of the
-- CRM, so each build compares it with the latest version stored here and records a new version, valid
-- from the build's as-of day, for every account whose tracked attributes changed. Scores of a day use the
-- version valid on that day, so a later upsell or segment move never rewrites earlier scores. The first
-- version of an account also stands for the days before it was first seen: nothing older is known.
-- Like the score history, it is never rebuilt by --full-refresh: past exports cannot be recovered.
-- A build rewrites every version of each account whose attributes changed: on Spark, the account's partition.
{{ config(
    materialized='incremental',
    full_refresh=false,
    on_schema_change='append_new_columns',
    **incremental_replacement('account_id', unique_key=['account_id', 'valid_from_date']),
) }}

{{ assert_as_of_not_before_history() }}

{%- set tracked_columns = [
    'account_name', 'segment', 'plan_name', 'country_code', 'currency_code', 'csm_owner',
    'crm_lifecycle_stage', 'arr_amount', 'licensed_seats', 'contract_start_date', 'renewal_date',
] %}
{#- The parent (account hierarchy) changes like any attribute, but enters the hash only when there is one:
    a warehouse recorded before accounts had parents keeps the hashes it stored, so the first refresh after
    the upgrade gives a new version only to accounts that have a parent. -#}
{%- set parent_text = "coalesce('|parent:' || parent_account_id, '')" %}
{%- set stored_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list
    if is_incremental() else [] %}

with exported as (
    select
        account_id,
        {{ tracked_columns | join(',\n        ') }},
        parent_account_id,
        {{ dbt.hash(dbt.concat(tracked_attribute_texts(tracked_columns) + [parent_text])) }} as attributes_hash,
        {{ score_as_of_date() }} as valid_from_date,
        cast({{ dbt.current_timestamp() }} as timestamp) as recorded_at
    from {{ ref('stg_crm__accounts') }}
),

{%- if is_incremental() %}

stored as (
    select
        account_id,
        {{ tracked_columns | join(', ') }},
        {% if 'parent_account_id' in stored_columns -%}
        parent_account_id,
        {%- else -%}
        cast(null as {{ dbt.type_string() }}) as parent_account_id,
        {%- endif %}
        attributes_hash,
        valid_from_date,
        recorded_at
    from {{ this }}
),

latest_stored as (
    select account_id, attributes_hash
    from {{ this }}
    where is_current
),

changed as (
    select exported.*
    from exported
    left join latest_stored
        on exported.account_id = latest_stored.account_id
    where latest_stored.account_id is null
       or latest_stored.attributes_hash <> exported.attributes_hash
),

-- Every stored version of a changed account is rewritten, because its validity ends where the new one
-- starts; a version recorded earlier on the same as-of day is replaced by the newer export.
versions as (
    select stored.*
    from stored
    inner join changed
        on stored.account_id = changed.account_id
        and stored.valid_from_date <> changed.valid_from_date
    union all
    select * from changed
),

{%- else %}

versions as (
    select * from exported
),

{%- endif %}

dated as (
    select
        versions.*,
        lead(versions.valid_from_date) over (
            partition by versions.account_id order by versions.valid_from_date
        ) as next_valid_from_date,
        -- bigint on every engine (Spark numbers rows as int).
        cast(row_number() over (partition by versions.account_id order by versions.valid_from_date) as bigint)
            as version_number
    from versions
)

select
    account_id || '|' || cast(valid_from_date as {{ dbt.type_string() }}) as account_version_id,
    account_id,
    parent_account_id,
    version_number,
    {{ tracked_columns | join(',\n    ') }},
    attributes_hash,
    valid_from_date,
    cast({{ dbt.dateadd('day', -1, 'next_valid_from_date') }} as date) as valid_to_date,
    next_valid_from_date is null as is_current,
    recorded_at
from dated
