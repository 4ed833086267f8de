{#- How an incremental model replaces what a build recomputes, decided here once per engine and spread into
    the model's config: `config(materialized='incremental', **incremental_replacement('score_date', ...))`.

    DuckDB deletes and inserts: by `unique_key` (delete+insert), or, for models that name the rows to drop
    themselves, by the SQL condition `deleted_where` run before an append (rows of days whose source rows
    all vanished go too). Spark's Parquet tables take no DELETE or MERGE (those need Delta, Iceberg or Hudi),
    so there the table is partitioned by `partition_column` and a build overwrites the partitions it writes
    (insert_overwrite, with dynamic partition overwrite set in profiles.yml): a model's build must therefore
    hold every row of each partition it touches, which the day-by-day models do. A partition whose rows all
    vanished keeps its old rows on Spark until a full refresh. -#}
{% macro incremental_replacement(partition_column, unique_key=none, deleted_where=none) %}
    {{ return(adapter.dispatch('incremental_replacement')(partition_column, unique_key, deleted_where)) }}
{% endmacro %}

{% macro default__incremental_replacement(partition_column, unique_key, deleted_where) %}
    {%- if unique_key is not none -%}
        {{ return({'incremental_strategy': 'delete+insert', 'unique_key': unique_key}) }}
    {%- endif -%}
    {{ return({
        'incremental_strategy': 'append',
        'pre_hook': '{% if is_incremental() %}delete from {{ this }} where ' ~ deleted_where ~ '{% endif %}',
    }) }}
{% endmacro %}

{% macro spark__incremental_replacement(partition_column, unique_key, deleted_where) %}
    {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': [partition_column], 'file_format': 'parquet'}) }}
{% endmacro %}
