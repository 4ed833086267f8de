-- Guards marts.parent_account_health's weakest child: no account below the parent (within the depth bound) had a
-- lower score that day, and the one named is below the parent with the score shown.
with family_days as (
    select * from {{ ref('parent_account_health') }}
    where score_date >= (select min(score_date) from {{ ref('int_account_days_assigned') }} where is_history_day)
),

child_scores as (
    select ancestors.ancestor_account_id as parent_account_id, history.account_id, history.health_score, history.score_date
    from {{ ref('account_health_history') }} as history
    inner join {{ ref('int_account_ancestors_resolved') }} as ancestors
        on history.account_id = ancestors.account_id
        and ancestors.is_within_max_depth
        and (ancestors.valid_from_date is null or history.score_date >= ancestors.valid_from_date)
        and (ancestors.valid_to_date is null or history.score_date <= ancestors.valid_to_date)
    where history.health_score is not null
)

select family_days.parent_account_id, family_days.score_date, family_days.weakest_child_account_id
from family_days
left join child_scores as named
    on family_days.parent_account_id = named.parent_account_id
    and family_days.score_date = named.score_date
    and family_days.weakest_child_account_id = named.account_id
where (family_days.weakest_child_account_id is not null and named.account_id is null)
   or named.health_score <> family_days.weakest_child_health_score
   or exists (
       select 1 from child_scores as other
       where other.parent_account_id = family_days.parent_account_id
         and other.score_date = family_days.score_date
         and other.health_score < family_days.weakest_child_health_score
   )
   or (family_days.weakest_child_account_id is null and exists (
       select 1 from child_scores as other
       where other.parent_account_id = family_days.parent_account_id
         and other.score_date = family_days.score_date
   ))
