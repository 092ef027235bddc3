{#
  The values of one column of a reference seed, in the seed's sort order, read from the
  loaded seed table when the SQL is executed. So the names of the impact levels and
  effect categories live in seeds/ alone, and models that need one column per name
  (major_count, reduced_12m, ...) loop over them.

  The seed is looked up directly rather than through ref(): a unit test mocks every ref
  of the model it tests (and has no graph to search), but the names must still come from
  the real seed. A model that
  calls this declares the dependency itself (`-- depends_on: {{ ref('the_seed') }}`), so
  dbt builds the seed first. At parse time (`execute` is false) nothing can be read and an
  empty list is returned: the SQL is only inspected then, not run.
#}
{% macro reference_values(seed_name, column, order_by='sort_order', where='true') %}
    {%- if not execute %}
        {{ return([]) }}
    {%- endif %}
    {#- The seeds' schema, as dbt_project.yml configures it (seeds: +schema: reference). #}
    {%- set relation = adapter.get_relation(
        database=target.database,
        schema=generate_schema_name('reference', none),
        identifier=seed_name) %}
    {%- if relation is none %}
        {{ exceptions.raise_compiler_error(
            "seed " ~ seed_name ~ " is not loaded: run `dbt seed` (or `dbt build`) first") }}
    {%- endif %}
    {%- set result = run_query(
        "select " ~ column ~ " from " ~ relation ~ " where " ~ where ~ " order by " ~ order_by) %}
    {{ return(result.columns[0].values() | list) }}
{% endmacro %}

{# The impact levels in display order (major, moderate, minor, none, negative by default). #}
{% macro impact_levels() %}
    {{ return(reference_values('impact_levels', 'impact')) }}
{% endmacro %}

{# The effect categories in display order. #}
{% macro effect_categories() %}
    {{ return(reference_values('effect_categories', 'effect')) }}
{% endmacro %}

{# The effect categories that are an outcome (every one but too_early), in display order. #}
{% macro outcome_effect_categories() %}
    {{ return(reference_values('effect_categories', 'effect', where='is_outcome')) }}
{% endmacro %}
