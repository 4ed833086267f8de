{#- The materialisation of a mart that is only a view over a stored table: a view on DuckDB, where the refresh
    and the publication read it in the warehouse itself; a table on Spark, where they read what dbt built from
    its Parquet files (orchestration/defs/dbt/spark.py), which a Spark view does not have. -#}
{% macro mart_view() %}
    {{ return(adapter.dispatch('mart_view')()) }}
{% endmacro %}

{% macro default__mart_view() %}{{ return('view') }}{% endmacro %}

{% macro spark__mart_view() %}{{ return('table') }}{% endmacro %}
