-- Every account's ancestors in the CRM hierarchy over time: one row per account, ancestor and stretch of days
-- on which the ancestor is its parent (depth 1), its parent's parent (depth 2), and so on up the chain. Built
-- from the account versions, so an account that moves to another parent on day D counts in its new family from
-- D on and in its old one before. A stretch runs from `valid_from_date` (null: since before the first export,
-- as the first version stands for those days) to `valid_to_date` (null: still so).
-- Portable SQL: one self-join per level, as many as seeds/hierarchy_settings.csv `max_depth` allows plus one,
-- rather than a recursive CTE, which Spark cannot run. The extra level finds chains longer than the bound
-- (test hierarchies_fit_max_depth); the roll-up uses only the levels within it.
-- depends_on: {{ ref('hierarchy_settings') }}
{%- set max_depth = hierarchy_max_depth() %}

with versions as (
    select
        account_id,
        parent_account_id,
        case when version_number > 1 then valid_from_date end as valid_from_date,
        valid_to_date
    from {{ ref('int_account_versions_recorded') }}
),

-- Links to a parent that is a known account: the loader clears parents missing from the export, and an
-- account erased on request is cleared from its children as well; this keeps the roll-up whole regardless.
links as (
    select versions.*
    from versions
    where versions.parent_account_id in (select account_id from versions)
),

depth_1 as (
    select
        account_id,
        parent_account_id as ancestor_account_id,
        1 as ancestor_depth,
        valid_from_date,
        valid_to_date
    from links
),
{%- for depth in range(2, max_depth + 2) %}

depth_{{ depth }} as (
    select
        below.account_id,
        links.parent_account_id as ancestor_account_id,
        {{ depth }} as ancestor_depth,
        -- The days both links hold: the later start and the earlier end, an empty bound being open.
        case
            when below.valid_from_date is null then links.valid_from_date
            when links.valid_from_date is null or links.valid_from_date < below.valid_from_date
                then below.valid_from_date
            else links.valid_from_date
        end as valid_from_date,
        case
            when below.valid_to_date is null then links.valid_to_date
            when links.valid_to_date is null or links.valid_to_date > below.valid_to_date then below.valid_to_date
            else links.valid_to_date
        end as valid_to_date
    from depth_{{ depth - 1 }} as below
    inner join links
        on below.ancestor_account_id = links.account_id
        and (below.valid_from_date is null or links.valid_to_date is null or links.valid_to_date >= below.valid_from_date)
        and (links.valid_from_date is null or below.valid_to_date is null or below.valid_to_date >= links.valid_from_date)
),
{%- endfor %}

unioned as (
    {%- for depth in range(1, max_depth + 2) %}
    select * from depth_{{ depth }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select
    account_id || '|' || ancestor_account_id || '|' || coalesce(cast(valid_from_date as {{ dbt.type_string() }}), 'first')
        as account_ancestor_id,
    account_id,
    ancestor_account_id,
    ancestor_depth,
    ancestor_depth <= {{ max_depth }} as is_within_max_depth,
    valid_from_date,
    valid_to_date
from unioned
