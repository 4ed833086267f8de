{#- On Spark, the sources dbt reads (the loader's raw views and bookkeeping, the backtest's coefficients) are
    views that orchestration/defs/dbt/spark.py described in a catalog file before dbt started, from the DuckDB
    warehouse that ingestion keeps: this on-run-start hook creates them. Nothing to do on DuckDB, where they
    are the warehouse's own relations. -#}
{% macro register_spark_sources() %}
    {%- if target.type != 'spark' or not execute -%}{{ return('') }}{%- endif -%}
    {%- set catalog = spark_dir() ~ '/sources/catalog.parquet' -%}
    {%- set entries = run_query(
        'select schema_name, relation_name, definition from parquet.`' ~ catalog ~ '` order by position'
    ).rows -%}
    {%- for schema_name in entries | map(attribute=0) | unique -%}
        {%- do run_query('create schema if not exists ' ~ schema_name) -%}
    {%- endfor -%}
    {%- for schema_name, relation_name, definition in entries -%}
        {%- do run_query('create or replace view ' ~ schema_name ~ '.' ~ relation_name ~ ' as ' ~ definition) -%}
    {%- endfor -%}
    {{ return('') }}
{% endmacro %}

{#- Spark's directory for the local spark target, as profiles.yml resolves it. -#}
{% macro spark_dir() %}
    {{- return(var('spark_dir') if var('spark_dir', none)
        else env_var('HEALTHSCORE_SPARK_DIR', env_var('HEALTHSCORE_WAREHOUSE').rsplit('/', 1)[0] ~ '/spark')) -}}
{% endmacro %}
