{#- Layers land in schemas named after the layer (staging, intermediate, marts, scorecard), not
    "<target schema>_<layer>", so analysts and BI tools find the same names on every target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
