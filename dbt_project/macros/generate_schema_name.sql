{#
  Schemas are used as named (reference, staging, intermediate, snapshots, marts), not
  prefixed with the target schema: the published file and every reader expect `marts.x`.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
