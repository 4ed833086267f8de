{#- Keeps one row per key: exports overlap, and the row from the latest file (by name, then line) wins. -#}
{% macro latest_landed_rows(relation, key_columns) %}
    select *
    from (
        select
            landed.*,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by landed._source_file desc, landed._source_row desc
            ) as landed_version
        from {{ relation }} as landed
    ) as versions
    where landed_version = 1
{% endmacro %}
