{#
  THE versioning rule, implemented once; every mart that counts disruptions builds on it
  (through int_disruptions_current, which adds the reference attributes).

  1. Only versions from batches that count (status loaded in audit.load_batches).
  2. Point in time: versions recorded before as_of + 1 day, with disruption_date <= as_of.
  3. The current version of each disruption_id is the latest survivor, ordered by
     recorded_at, then load order (batch_id, line_number).
  Counted = current version approved; pending = current version claimed. A withdrawn or
  rejected current version is neither, so a withdrawal removes an earlier approval.

  Incremental, because a full rebuild re-ranks every version ever loaded every night.
  The previous build's as_of and counted disruption batches are kept in
  int_disruption_current_versions_state (checked by the incremental_build_state macro).
  When as_of has not moved back and every batch counted then still counts, the knowable
  versions can only have grown; a disruption's current version can only change if it
  gained a version, so only those disruptions are re-ranked (delete+insert by
  disruption_id) and the result equals a full rebuild.
  Otherwise this model refuses to build incrementally (transform.build_marts runs a full
  refresh in those cases).
#}
{{
    config(
        materialized=incremental_where_supported(),
        incremental_strategy='delete+insert',
        unique_key='disruption_id',
        on_schema_change='fail'
    )
}}

{%- set state = none %}
{%- if is_incremental() %}
    {%- set state = incremental_build_state(this, 'int_disruption_current_versions_state') %}
{%- endif %}

with counted_batches as (

    select batch_id
    from {{ ref('stg_load_batches') }}
    where is_counted_in_marts

),

{#- Every CTE below reads staging itself rather than sharing one `knowable versions` CTE:
    a CTE read twice is materialised with every column of ~10M rows. #}
{%- set knowable = knowable_version('versions') %}

{%- if state is not none %}

{{ previous_build_ctes(state) }}

-- Disruptions with a knowable version that was not knowable at the previous build: from
-- a batch that did not count then, or recorded or dated after that build's as_of.
gained_a_version as (

    {{ disruptions_that_gained_a_version('counted_batches', 'new_batches') }}

),

candidate_versions as (

    select versions.disruption_id, versions.recorded_at, versions.batch_id, versions.line_number
    from {{ ref('stg_disruptions') }} as versions
    inner join counted_batches
        on counted_batches.batch_id = versions.batch_id
    inner join gained_a_version
        on gained_a_version.disruption_id = versions.disruption_id
    where {{ knowable }}

),

{%- else %}

candidate_versions as (

    select versions.disruption_id, versions.recorded_at, versions.batch_id, versions.line_number
    from {{ ref('stg_disruptions') }} as versions
    inner join counted_batches
        on counted_batches.batch_id = versions.batch_id
    where {{ knowable }}

),

{%- endif %}

{#- The window sorts only the ranking keys; the winners' other columns are joined back
    by their row's identity (batch_id, line_number). Sorting every column of ~10M
    versions cost a third more at 10M rows. #}
ranked_versions as (

    select
        candidate_versions.*,
        row_number() over (
            partition by candidate_versions.disruption_id
            order by {{ claim_version_order('candidate_versions', 'desc') }}
        ) as version_recency
    from candidate_versions

),

current_versions as (

    select batch_id, line_number
    from ranked_versions
    where version_recency = 1

)

select
    versions.disruption_id,
    versions.ocg_id,
    versions.disruption_date,
    versions.recorded_at,
    versions.impact,
    versions.strand,
    versions.tactic,
    versions.lead_agency,
    versions.force_area,
    versions.status,
    versions.operation,
    case when versions.status = 'approved' then true else false end as is_counted,
    case when versions.status = 'claimed' then true else false end as is_pending,
    versions.batch_id,
    versions.line_number
from {{ ref('stg_disruptions') }} as versions
inner join current_versions
    on current_versions.batch_id = versions.batch_id
    and current_versions.line_number = versions.line_number
