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
