{#
  Every engine-specific piece of SQL lives in this file, behind adapter.dispatch, so the
  models themselves run unchanged on DuckDB, PostgreSQL and Spark/Trino.
#}

{# A DATE `months` calendar months after `date_expr`, clamped to the end of the month
   (2025-08-31 + 6 months = 2026-02-28), as DuckDB and PostgreSQL intervals do. #}
{% macro add_months(date_expr, months) -%}
    {{ return(adapter.dispatch('add_months', 'disruptions')(date_expr, months)) }}
{%- endmacro %}

{% macro default__add_months(date_expr, months) -%}
    cast({{ dbt.dateadd('month', months, date_expr) }} as date)
{%- endmacro %}

{# Spark's add_months clamps to month end and returns a DATE. #}
{% macro spark__add_months(date_expr, months) -%}
    add_months({{ date_expr }}, {{ months }})
{%- endmacro %}

{# Trino's date_add('month', ...) clamps to month end and keeps the DATE type. #}
{% macro trino__add_months(date_expr, months) -%}
    date_add('month', {{ months }}, {{ date_expr }})
{%- endmacro %}

{# A 64-bit float. dbt.type_float() is 32-bit FLOAT on DuckDB, which would make
   -0.1 and the tolerance 0.1 compare unequal. #}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'disruptions')()) }}
{%- endmacro %}

{% macro default__type_double() -%}double precision{%- endmacro %}
{% macro duckdb__type_double() -%}double{%- endmacro %}
{% macro spark__type_double() -%}double{%- endmacro %}
{% macro trino__type_double() -%}double{%- endmacro %}

{# One row (table_schema, table_name, column_name) per column called `column` in a table
   or view of the given schemas (dbt's own, without any engine prefix). #}
{% macro columns_named(column, schemas) -%}
    {{ return(adapter.dispatch('columns_named', 'disruptions')(column, schemas)) }}
{%- endmacro %}

{% macro default__columns_named(column, schemas) -%}
select table_schema, table_name, column_name
from information_schema.columns
where lower(column_name) = '{{ column | lower }}'
  and lower(table_schema) in (
    {%- for schema in schemas %}'{{ build_schema_prefix() }}{{ schema }}'{{ ", " if not loop.last }}{% endfor -%}
  )
{%- endmacro %}

{# Spark has no information_schema: ask the catalog about every model and seed dbt built
   in those schemas. #}
{% macro spark__columns_named(column, schemas) -%}
    {%- set found = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values()
            if node.resource_type in ('model', 'seed', 'snapshot') and node.schema in schemas -%}
            {%- set relation = adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.alias) -%}
            {%- if relation is not none -%}
                {%- for col in adapter.get_columns_in_relation(relation)
                    if col.name | lower == column | lower -%}
                    {%- do found.append((node.schema, node.alias, col.name)) -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
select table_schema, table_name, column_name
from (
    select cast(null as string) as table_schema, cast(null as string) as table_name,
        cast(null as string) as column_name
    {%- for schema, table, name in found %}
    union all select '{{ schema }}', '{{ table }}', '{{ name }}'
    {%- endfor %}
) as found_columns
where column_name is not null
{%- endmacro %}
