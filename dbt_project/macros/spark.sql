{#
  The Spark engine (engines/spark.py). Spark reads the control plane's validated batches
  as immutable Parquet files, one per batch, that the engine writes under the landed
  folder (DISRUPTIONS_SPARK_LANDED): raw/<feed>/ and ledger/<table>/. Before a dbt command
  reads anything, this registers each folder as an external table (the schema comes from
  the files; every folder holds a zero-row file that carries it) and refreshes Spark's
  cached listing of its files. On the other engines it renders nothing.
#}
{% macro register_spark_sources() -%}
    {%- if target.type == 'spark' and execute -%}
        {%- set landed = env_var('DISRUPTIONS_SPARK_LANDED', '') -%}
        {%- if not landed -%}
            {{ exceptions.raise_compiler_error(
                "the spark target needs DISRUPTIONS_SPARK_LANDED (set by engines/spark.py)") }}
        {%- endif -%}
        {%- set tables = {
            'raw': ['disruptions', 'ocg_assessments'],
            ledger_schema(): ['load_batches', 'batch_decisions', 'run_context'],
        } -%}
        {%- for schema, names in tables.items() -%}
            {%- do run_query('create database if not exists ' ~ schema) -%}
            {%- for name in names -%}
                {%- do run_query(
                    'create table if not exists ' ~ schema ~ '.' ~ name
                    ~ " using parquet location '" ~ landed ~ '/' ~ schema ~ '/' ~ name ~ "'") -%}
                {%- do run_query('refresh table ' ~ schema ~ '.' ~ name) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#
  The two incremental models (delete+insert by key) on engines that can delete rows; on
  Spark a plain Parquet table cannot, and no Delta or Iceberg jars are installed, so they
  are rebuilt in full, which gives the same rows.
#}
{% macro incremental_where_supported() -%}
    {{- return('table' if target.type == 'spark' else 'incremental') -}}
{%- endmacro %}
