{#- Versions of an entity that overlap, leave a gap, or disagree about which one is current: each version
    must end the day before the next one starts, and only the last one may be open and current. -#}
{% test versions_are_contiguous(
    model, entity_column='account_id', from_column='valid_from_date', to_column='valid_to_date',
    current_column='is_current'
) %}

with ordered as (
    select
        {{ entity_column }} as entity_id,
        {{ from_column }} as valid_from,
        {{ to_column }} as valid_to,
        {{ current_column }} as is_current,
        lead({{ from_column }}) over (partition by {{ entity_column }} order by {{ from_column }}) as next_from
    from {{ model }}
)

select *
from ordered
where (next_from is null and (valid_to is not null or not is_current))
   or (next_from is not null and (is_current or valid_to is null
        or valid_to <> cast({{ dbt.dateadd('day', -1, 'next_from') }} as date)))
   or valid_to < valid_from

{% endtest %}
