{#
  THE versioning rule, implemented once; every mart that counts disruptions builds on it
  (through int_disruptions_current, which adds the reference attributes).

  1. Only versions from batches that count (status loaded in audit.load_batches).
  2. Point in time: versions recorded before as_of + 1 day, with disruption_date <= as_of.
  3. The current version of each disruption_id is the latest survivor, ordered by
     recorded_at, then load order (batch_id, line_number).
  Counted = current version approved; pending = current version claimed. A withdrawn or
  rejected current version is neither, so a withdrawal removes an earlier approval.

  Incremental, because this is the one step whose work grows with history every night.
  The previous build's as_of and counted batches are kept in
  int_disruption_current_versions_state. When as_of has not moved back and every batch
  counted then still counts, the knowable versions can only have grown; a disruption's
  current version can only change if it gained a version, so only those disruptions are
  re-ranked (delete+insert by disruption_id) and the result equals a full rebuild.
  Otherwise this model refuses to build incrementally (transform.build_marts runs a full
  refresh in those cases).
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='disruption_id',
        on_schema_change='fail'
    )
}}

{%- set state = none %}
{%- if is_incremental() %}
    {%- set state = adapter.get_relation(
        database=this.database,
        schema=this.schema,
        identifier='int_disruption_current_versions_state'
    ) %}
    {%- if state is none %}
        {{ exceptions.raise_compiler_error(
            "int_disruption_current_versions has no build state: run with --full-refresh") }}
    {%- endif %}
    {#- Only when building: `dbt docs generate` and `dbt compile` also render this. #}
    {%- if execute and flags.WHICH in ['run', 'build'] %}
        {%- set check = run_query(
            "select count(*) from " ~ state ~ " as previous"
            ~ " where previous.as_of_date > " ~ as_of_date()
            ~ " or previous.batch_id not in (select batch_id from "
            ~ ref('stg_load_batches') ~ " where is_counted_in_marts)"
        ) %}
        {%- if check.columns[0].values()[0] > 0 %}
            {{ exceptions.raise_compiler_error(
                "as_of moved back or a counted batch no longer counts since the last build of"
                ~ " int_disruption_current_versions: run with --full-refresh") }}
        {%- endif %}
    {%- endif %}
{%- endif %}

with counted_batches as (

    select batch_id
    from {{ ref('stg_load_batches') }}
    where is_counted_in_marts

),

knowable_versions as (

    select versions.*
    from {{ ref('stg_disruptions') }} as versions
    inner join counted_batches
        on counted_batches.batch_id = versions.batch_id
    where versions.recorded_at < {{ as_of_cutoff_timestamp() }}
      and versions.disruption_date <= {{ as_of_date() }}

),

{%- if state is not none %}

previous_build as (

    select batch_id, as_of_date from {{ state }}

),

previous_as_of as (

    select max(as_of_date) as as_of_date from previous_build

),

-- Disruptions with a version that was not knowable at the previous build.
gained_a_version as (

    select distinct knowable_versions.disruption_id
    from knowable_versions
    cross join previous_as_of
    where previous_as_of.as_of_date is null
       or knowable_versions.batch_id not in (select batch_id from previous_build)
       or knowable_versions.recorded_at
            >= cast({{ dbt.dateadd('day', 1, 'previous_as_of.as_of_date') }}
                as {{ dbt.type_timestamp() }})
       or knowable_versions.disruption_date > previous_as_of.as_of_date

),

candidate_versions as (

    select knowable_versions.*
    from knowable_versions
    inner join gained_a_version
        on gained_a_version.disruption_id = knowable_versions.disruption_id

),

{%- else %}

candidate_versions as (

    select * from knowable_versions

),

{%- endif %}

ranked_versions as (

    select
        candidate_versions.*,
        row_number() over (
            partition by disruption_id
            order by recorded_at desc, batch_id desc, line_number desc
        ) as version_recency
    from candidate_versions

)

select
    disruption_id,
    ocg_id,
    disruption_date,
    recorded_at,
    impact,
    strand,
    tactic,
    lead_agency,
    force_area,
    status,
    operation,
    case when status = 'approved' then true else false end as is_counted,
    case when status = 'claimed' then true else false end as is_pending,
    batch_id,
    line_number
from ranked_versions
where version_recency = 1
