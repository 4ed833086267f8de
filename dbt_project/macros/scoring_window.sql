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
                cast({{ dbt.dateadd('day', '(1 - ' ~ setting('reprocess_days', 'integer') ~ ')', 'max(score_date)') }} as date),
                {{ history_start_date() }}
            )
            from {{ history }}
        )
    {%- endif -%}
{% endmacro %}

{#- Refuses to score up to a day before the last day already in the history: the later days would stay
    as they were while the current-state mart moved back, a silent mix of two as-of days. Rescoring the
    whole history up to the earlier day (var `rebuild_history`) is the deliberate way to go back. -#}
{% macro assert_as_of_not_before_history() %}
    {%- if not execute or var('rebuild_history', false) -%}{{ return('') }}{%- endif -%}
    {%- set history = adapter.get_relation(database=target.database, schema='marts', identifier='account_health_history') -%}
    {%- if history is none -%}{{ return('') }}{%- endif -%}
    {%- set days = run_query(
        'select cast(' ~ score_as_of_date() ~ ' as ' ~ dbt.type_string() ~ '), '
        ~ 'cast((select max(score_date) from ' ~ history ~ ') as ' ~ dbt.type_string() ~ ')'
    ).rows[0] -%}
    {%- set as_of, last_scored = days[0], days[1] -%}
    {%- if last_scored is not none and as_of < last_scored -%}
        {%- set origin = 'score_as_of_date' if var('score_as_of_date', '') else 'the latest usage event' -%}
        {{ exceptions.raise_compiler_error(
            'The as-of day ' ~ as_of ~ ' (' ~ origin ~ ') is before ' ~ last_scored ~ ', the last day already in '
            ~ history ~ '. The stored history is kept as it was computed, so scoring up to an earlier day would '
            ~ 'mix two as-of days. Score up to ' ~ last_scored ~ ' or later, or rescore the whole history up to '
            ~ as_of ~ ' on purpose: make run AS_OF=' ~ as_of ~ ' REBUILD_HISTORY=1 (dbt: --vars '
            ~ "'{score_as_of_date: " ~ as_of ~ ", rebuild_history: true}')."
        ) }}
    {%- endif -%}
{% endmacro %}

{#- True (as SQL) when the stored reference yardstick (int_measure_reference_percentiles) was computed with
    the current configuration and reference period and this build scores only days after that period:
    then the reference days need not be measured again. A rebuild of the history always recomputes it. -#}
{% macro stored_reference_is_current() %}
    {%- set stored = stored_reference_yardstick() -%}
    {%- if stored is none or var('rebuild_history', false) -%}
        (1 = 0)
    {%- else -%}
        (
            exists (
                select 1
                from {{ stored }} as stored
                where stored.config_version = (select max(config_version) from {{ ref('int_scorecard_config_rows') }})
                  and stored.reference_start_date = {{ setting('reference_start_date', 'date') }}
                  and stored.reference_end_date = {{ setting('reference_end_date', 'date') }}
            )
            and {{ recompute_from_date() }} > {{ setting('reference_end_date', 'date') }}
        )
    {%- endif -%}
{% endmacro %}

{#- The stored int_measure_reference_percentiles, if there is one that records what it was computed with. -#}
{% macro stored_reference_yardstick() %}
    {#- dbt-spark drops a Parquet table before it creates it again, so there the model cannot read its own
        rows: Spark measures the yardstick on every build. -#}
    {%- if not execute or target.type == 'spark' -%}{{ return(none) }}{%- endif -%}
    {%- set stored = adapter.get_relation(
        database=target.database, schema='intermediate', identifier='int_measure_reference_percentiles'
    ) -%}
    {%- if stored is none -%}{{ return(none) }}{%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(stored) | map(attribute='name') | list -%}
    {{ return(stored if 'config_version' in columns else none) }}
{% endmacro %}
