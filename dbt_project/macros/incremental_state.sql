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
  After an incremental build, the rows it kept get the new as_of_date (the rows it
  rebuilt have it already), and `also_set` (SQL assignments of other as_of-dependent
  columns). Renders nothing on a full build.
#}
{% macro refresh_as_of_date_of_kept_rows(also_set=none) -%}
    {%- if is_incremental() -%}
        update {{ this }} set as_of_date = {{ as_of_date() }}
        {%- if also_set %}, {{ also_set }}{% endif %}
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


{#
  The OCGs with a knowable assessment that was not knowable at the previous build: from a
  batch that did not count then, or assessed after that build's as_of. A query, for a
  CTE; expects the CTEs counted_batches and previous_build_ctes' previous_as_of and
  new_batches. Everything int_ocg_assessments_ranked holds about an OCG, and every
  assessment input of the effect rules, can only change for these OCGs.
#}
{% macro ocgs_that_gained_an_assessment() -%}
    select assessments.ocg_id
    from {{ ref('stg_ocg_assessments') }} as assessments
    inner join counted_batches
        on counted_batches.batch_id = assessments.batch_id
    cross join previous_as_of
    where assessments.assessed_on <= {{ as_of_date() }}
      and (
        previous_as_of.as_of_date is null
        or assessments.assessed_on > previous_as_of.as_of_date
      )
    union
    select assessments.ocg_id
    from {{ ref('stg_ocg_assessments') }} as assessments
    inner join new_batches
        on new_batches.batch_id = assessments.batch_id
    where assessments.assessed_on <= {{ as_of_date() }}
{%- endmacro %}


{#
  After an incremental build of int_effect_at_anchor: the rows of anchors that are gone
  (an OCG's only counted disruption withdrawn, say). delete+insert only replaces the
  OCGs it measured again, and an OCG with no anchor left has no row to replace its old
  ones. Renders nothing on a full build.
#}
{% macro delete_effect_rows_of_lost_anchors() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as kept
        where not exists (
            select 1
            from {{ ref('int_effect_anchors') }} as anchors
            where anchors.ocg_id = kept.ocg_id
              and anchors.anchor_date = kept.anchor_date
        )
    {%- endif -%}
{%- endmacro %}


{#
  The disruptions with a knowable version that the previous build did not see as it is
  now: a version in `batches` (a CTE of batch_id: the batches the model reads) recorded
  or dated after that build's as_of, or any knowable version in `changed_batches` (a CTE
  of batch_id: batches that count now but did not then, or whose standing changed). A
  query, for a CTE; expects the CTE previous_as_of. Everything that
  int_disruption_current_versions and fct_disruption_claims hold about a disruption can
  only change for these.
#}
{% macro disruptions_that_gained_a_version(batches, changed_batches) -%}
    select versions.disruption_id
    from {{ ref('stg_disruptions') }} as versions
    inner join {{ batches }}
        on {{ batches }}.batch_id = versions.batch_id
    cross join previous_as_of
    where {{ knowable_version('versions') }}
      and (
        previous_as_of.as_of_date is null
        or versions.recorded_at
            >= cast({{ dbt.dateadd('day', 1, 'previous_as_of.as_of_date') }}
                as {{ dbt.type_timestamp() }})
        or versions.disruption_date > previous_as_of.as_of_date
      )
    union
    select versions.disruption_id
    from {{ ref('stg_disruptions') }} as versions
    inner join {{ changed_batches }}
        on {{ changed_batches }}.batch_id = versions.batch_id
    where {{ knowable_version('versions') }}
{%- endmacro %}


{#
  The body of a build-state model (int_*_state) of a model that reads the counted
  batches of one feed: each such batch, with the build's as_of. Built right after its
  model (a depends_on hint in the state model), read by the model's next incremental run.
#}
{% macro counted_batches_state(feed) -%}
select
    batch_id,
    {{ as_of_date() }} as as_of_date
from {{ ref('stg_load_batches') }}
where is_counted_in_marts
  and feed = '{{ feed }}'
{%- endmacro %}
