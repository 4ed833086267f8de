{#- Join condition: the account version `versions` is the one valid on `day`. A version is valid from its
    `valid_from_date` to its `valid_to_date` (open while current); the first version also stands for the
    days before it was recorded, since nothing older is known. -#}
{% macro version_valid_on(versions, day) %}
    ({{ versions }}.version_number = 1 or {{ day }} >= {{ versions }}.valid_from_date)
    and ({{ versions }}.valid_to_date is null or {{ day }} <= {{ versions }}.valid_to_date)
{%- endmacro %}
