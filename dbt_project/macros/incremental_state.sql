{#
  The guard shared by the incremental models that keep a build state (a `<model>_state`
  model holding the previous build's as_of and the batches of the model's feed that
  counted then). Called only when is_incremental(); returns the state relation.

  An incremental build is exact only while as_of has not moved back and every batch that
  counted at the previous build still counts, so the build fails otherwise (and when
  the state is missing). transform.build_marts checks the same conditions first and runs
  a full refresh instead, so the failure is a safety net for hand-run builds.
#}
{% macro incremental_build_state(model, state_identifier) -%}
    {%- set state = adapter.get_relation(
        database=model.database,
        schema=model.schema,
        identifier=state_identifier
    ) %}
    {%- if state is none %}
        {{ exceptions.raise_compiler_error(
            model.identifier ~ " has no build state: run with --full-refresh") }}
    {%- endif %}
    {#- Only when building: `dbt docs generate` and `dbt compile` also render the model. #}
    {%- if execute and flags.WHICH in ['run', 'build'] %}
        {%- set check = run_query(
            "select count(*) from " ~ state ~ " as previous"
            ~ " where previous.as_of_date > " ~ as_of_date()
            ~ " or previous.batch_id not in (select batch_id from "
            ~ ref('stg_load_batches') ~ " where is_counted_in_marts)"
        ) %}
        {%- if check.columns[0].values()[0] > 0 %}
            {{ exceptions.raise_compiler_error(
                "as_of moved back or a counted batch no longer counts since the last build of "
                ~ model.identifier ~ ": run with --full-refresh") }}
        {%- endif %}
    {%- endif %}
    {{- return(state) }}
{%- endmacro %}


{#
  The two CTEs an incremental run reads its previous build through: previous_as_of (one
  row, NULL on an empty state) and new_batches (counted now, not counted then). Expects
  the model to define a `counted_batches` CTE before it.
#}
{% macro previous_build_ctes(state) -%}
previous_as_of as (

    select max(as_of_date) as as_of_date from {{ state }}

),

-- Batches that count now but did not count at the previous build.
new_batches as (

    select batch_id
    from counted_batches
    where batch_id not in (select previous.batch_id from {{ state }} as previous)

),
{%- endmacro %}
