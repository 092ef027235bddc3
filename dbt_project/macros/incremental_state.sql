{#
  The guard shared by the incremental models that keep a build state (a state model
  holding the previous build's as_of and the batches it saw). Called only when
  is_incremental(); returns the state relation.

  An incremental build is exact only while as_of has not moved back and every batch of
  the state is still among `kept_batches` (SQL selecting batch_id; by default the
  batches that count now), so the build fails otherwise (and when the state is
  missing). transform.build_marts checks the same conditions first and runs a full
  refresh instead, so the failure is a safety net for hand-run builds.
#}
{% macro incremental_build_state(model, state_identifier, kept_batches=none) -%}
    {#- The state model's own schema, which need not be the model's. -#}
    {%- set state_node = graph.nodes['model.' ~ project_name ~ '.' ~ state_identifier] %}
    {%- set state = adapter.get_relation(
        database=state_node.database,
        schema=state_node.schema,
        identifier=state_identifier
    ) %}
    {%- if state is none %}
        {{ exceptions.raise_compiler_error(
            model.identifier ~ " has no build state: run with --full-refresh") }}
    {%- endif %}
    {%- set kept = kept_batches or (
        "select batch_id from " ~ ref('stg_load_batches') ~ " where is_counted_in_marts") %}
    {#- Only when building: `dbt docs generate` and `dbt compile` also render the model. #}
    {%- if execute and flags.WHICH in ['run', 'build'] %}
        {%- set check = run_query(
            "select count(*) from " ~ state ~ " as previous"
            ~ " where previous.as_of_date > " ~ as_of_date()
            ~ " or previous.batch_id not in (" ~ kept ~ ")"
        ) %}
        {%- if check.columns[0].values()[0] > 0 %}
            {{ exceptions.raise_compiler_error(
                "as_of moved back or a batch no longer counts as at the last build of "
                ~ model.identifier ~ ": run with --full-refresh") }}
        {%- endif %}
    {%- endif %}
    {{- return(state) }}
{%- endmacro %}


{#
  fct_disruption_claims' state holds every disruption batch whose rows are in the
  warehouse (loaded or held): those must all still be there for an incremental build.
#}
{% macro claims_state_batches() -%}
    select batch_id from {{ ref('stg_load_batches') }} where status in ('loaded', 'held')
{%- endmacro %}


{#
  After an incremental build of a mart, the rows it kept get the new as_of_date (the rows
  it rebuilt have it already). Renders nothing on a full build.
#}
{% macro refresh_as_of_date_of_kept_rows() -%}
    {%- if is_incremental() -%}
        update {{ this }} set as_of_date = {{ as_of_date() }}
        where as_of_date <> {{ as_of_date() }}
    {%- endif -%}
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
