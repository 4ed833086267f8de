{#- Incremental models over event data recompute only the days whose landed rows changed. The loader
    appends every change (a file loaded, replaced or removed, rows of accounts that appeared or vanished)
    with the range of event dates it touched to raw.landed_file_changes; a model stores the time of the
    newest change it has seen in `_landed_changes_through`, and its next build takes the changes after
    it. -#}

{#- The newest change of `source_name` so far, as a SQL scalar. -#}
{% macro landed_changes_through(source_name) %}
    (
        select max(changed_at)
        from {{ source('ingestion', 'landed_file_changes') }}
        where source = '{{ source_name }}'
    )
{%- endmacro %}

{#- The event-date ranges of `source_name` changed since the model `this` last saw them, as a list of
    [first, last] ISO dates, overlapping and adjacent ranges merged. Empty when nothing changed. Only
    meaningful in an incremental build. -#}
{% macro changed_event_date_ranges(source_name) %}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set stored_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {%- if '_landed_changes_through' not in stored_columns -%}
        {#- Built by a version that did not track changes: every day is rebuilt. -#}
        {{ return([['0001-01-01', '2999-12-31']]) }}
    {%- endif -%}
    {%- set query -%}
        select cast(first_event_date as {{ dbt.type_string() }}), cast(last_event_date as {{ dbt.type_string() }})
        from {{ source('ingestion', 'landed_file_changes') }}
        where source = '{{ source_name }}'
          and first_event_date is not null
          and changed_at > coalesce(
              (select max(_landed_changes_through) from {{ this }}), cast('1900-01-01' as timestamp)
          )
        order by 1, 2
    {%- endset -%}
    {%- set merged = [] -%}
    {%- for row in run_query(query).rows -%}
        {%- set day_after_last = (
            modules.datetime.date.fromisoformat(merged[-1]['last']) + modules.datetime.timedelta(days=1)
        ).isoformat() if merged else none -%}
        {%- if merged and row[0] <= day_after_last -%}
            {%- if row[1] > merged[-1]['last'] -%}{%- do merged[-1].update({'last': row[1]}) -%}{%- endif -%}
        {%- else -%}
            {%- do merged.append({'first': row[0], 'last': row[1]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set ranges = [] -%}
    {%- for range_ in merged -%}{%- do ranges.append([range_['first'], range_['last']]) -%}{%- endfor -%}
    {{ return(ranges) }}
{% endmacro %}

{#- A SQL condition: `date_expression` lies in one of `ranges` (false when there are none). Written as
    plain comparisons so that readers of Parquet and DuckDB tables skip the row groups outside them. -#}
{% macro in_date_ranges(date_expression, ranges, as_timestamp=false) %}
    {%- if not ranges -%}(1 = 0){%- else -%}
    (
        {%- for first, last in ranges %}
        {%- if as_timestamp %}
        ({{ date_expression }} >= cast('{{ first }}' as timestamp)
            and {{ date_expression }} < cast({{ dbt.dateadd('day', 1, "cast('" ~ last ~ "' as date)") }} as timestamp))
        {%- else %}
        ({{ date_expression }} >= cast('{{ first }}' as date) and {{ date_expression }} <= cast('{{ last }}' as date))
        {%- endif %}
        {%- if not loop.last %} or{% endif %}
        {%- endfor %}
    )
    {%- endif -%}
{%- endmacro %}
