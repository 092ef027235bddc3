{#
  Schemas are used as named (reference, staging, intermediate, snapshots, marts), not
  prefixed with the target schema: the published file and every reader expect `marts.x`.
  On PostgreSQL, dbt builds into build_<name>: the reader-facing marts, audit and reference
  schemas are swapped in by publication (engines/postgres.py), so a half-built model is
  never what a reader sees.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ build_schema_prefix() }}{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

{% macro build_schema_prefix() -%}
    {{- 'build_' if target.type == 'postgres' else '' -}}
{%- endmacro %}

{#
  The control plane's ledger (audit.load_batches, batch_decisions, run_context), as dbt
  reads it: the working file's own audit schema on DuckDB; on PostgreSQL the copy the
  engine loads into `ledger` (the published `audit` schema is the readers').
#}
{% macro ledger_schema() -%}
    {{- 'ledger' if target.type in ('postgres', 'spark') else 'audit' -}}
{%- endmacro %}
