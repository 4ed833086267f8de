{#- The day scores are computed for: the `score_as_of_date` var when given, otherwise the latest day with
    a usage event (the freshest complete signal), otherwise today. -#}
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
