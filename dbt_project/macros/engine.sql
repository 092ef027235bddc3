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
