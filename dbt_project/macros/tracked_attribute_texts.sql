{#- Each column as text with a marker for null, ready to be concatenated into a change-detection hash
    (a plain concat would turn one null into a null hash, and 'a' || null || 'b' into 'ab'). -#}
{% macro tracked_attribute_texts(columns) %}
    {%- set texts = [] -%}
    {%- for column in columns -%}
        {%- do texts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '<null>')") -%}
        {%- if not loop.last %}{% do texts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ return(texts) }}
{% endmacro %}
