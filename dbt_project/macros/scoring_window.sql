{#- The scoring window: the as-of day (var `score_as_of_date`, default the latest day with a usage
    event) and the first day this build computes. Daily history is kept between builds; a build
    recomputes from `reprocess_days` before the last day already in the history, or everything when
    the history does not exist yet or var `rebuild_history` is true. -#}
{% macro score_as_of_date() %}
    {%- set configured = var('score_as_of_date', '') -%}
    {%- if configured -%}
        cast('{{ configured }}' as date)
    {%- else -%}
        coalesce(
            (select max(occurred_date) from {{ ref('stg_product__usage_events') }}),
            cast({{ dbt.current_timestamp() }} as date)
        )
    {%- endif -%}
{% endmacro %}

{% macro history_start_date() %}
    coalesce(
        {{ setting('history_start_date', 'date') }},
        (select min(occurred_date) from {{ ref('stg_product__usage_events') }}),
        {{ score_as_of_date() }}
    )
{%- endmacro %}

{% macro recompute_from_date() %}
    {%- set history = adapter.get_relation(database=target.database, schema='marts', identifier='account_health_history') -%}
    {%- if history is none or var('rebuild_history', false) -%}
        {{ history_start_date() }}
    {%- else -%}
        (
            select coalesce(
                cast({{ dbt.dateadd('day', '1 - ' ~ setting('reprocess_days', 'integer'), 'max(score_date)') }} as date),
                {{ history_start_date() }}
            )
            from {{ history }}
        )
    {%- endif -%}
{% endmacro %}
