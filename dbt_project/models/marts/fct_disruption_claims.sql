{#
  Every loaded claim version knowable at as_of, and what became of it: the evidence
  behind every figure of ocg_disruption_summary, one row per version with its batch,
  file and line. The outcome is the first that applies:
    held_batch / discarded_batch  its batch is held (awaiting review) or discarded
    superseded                    not the current version: a later version of the same
                                  claim from a counted batch exists
    counted / pending             the current version, approved / claimed
    withdrawn / rejected          the current version, with that status
  Which version is current is int_disruption_current_versions' rule; this model only
  looks it up, and orders versions by the same claim_version_order to name the next one.
  rationale is never selected.

  Incremental, because a full rebuild writes every version ever loaded every night. A
  disruption's rows can only change when it gains a knowable version (a new batch, or
  as_of moving past its recorded_at or disruption_date) or when one of its batches
  changes standing (released, held, discarded): its current version, its outcomes and
  its superseded_by all lie within the disruption. So only those disruptions are
  rebuilt (delete+insert by disruption_id), and the other rows only get the new
  as_of_date (the post-hook), which equals a full rebuild. What the last build saw is
  int_disruption_claims_state; a build whose as_of moved back, or after a batch left the
  warehouse's loaded and held ones, refuses to run incrementally (transform.build_marts
  runs a full refresh instead).
#}
{#- on_schema_change is not 'fail': on PostgreSQL the contract makes the table's text
    columns varchar, and each run's new rows come as text, which 'fail' takes for a
    schema change. The contract still fails the build on any real change of columns. #}
{{
    config(
        materialized=incremental_where_supported(),
        incremental_strategy='delete+insert',
        unique_key='disruption_id',
        on_schema_change='append_new_columns',
        post_hook="{{ refresh_as_of_date_of_kept_rows() }}"
    )
}}

{%- set state = none %}
{%- if is_incremental() %}
    {%- set state = incremental_build_state(
        this, 'int_disruption_claims_state', kept_batches=claims_state_batches()) %}
{%- endif %}


with batches as (

    -- Batches whose rows are in raw: loaded (counted) or held (held or discarded).
    select batch_id, source_file, batch_status, is_counted_in_marts
    from {{ ref('stg_load_batches') }}
    where status in ('loaded', 'held')

),

{%- set knowable = knowable_version('claims') %}

{%- if state is not none %}

previous_as_of as (

    select max(as_of_date) as as_of_date from {{ state }}

),

-- Batches whose standing is not what the previous build saw: new since, or released,
-- held or discarded since.
changed_batches as (

    select batches.batch_id
    from batches
    where not exists (
        select 1
        from {{ state }} as previous
        where previous.batch_id = batches.batch_id
          and previous.batch_status = batches.batch_status
          and previous.is_counted_in_marts = batches.is_counted_in_marts
    )

),

-- Disruptions with a knowable version the previous build did not see as it is now.
touched_disruptions as (

    {{ disruptions_that_gained_a_version('batches', 'changed_batches') }}

),

{%- endif %}

versions as (

    select
        claims.disruption_id,
        claims.recorded_at,
        claims.batch_id,
        claims.line_number,
        claims.ocg_id,
        claims.disruption_date,
        claims.impact,
        claims.status,
        claims.tactic,
        claims.strand,
        claims.lead_agency,
        claims.force_area,
        batches.source_file,
        batches.batch_status,
        batches.is_counted_in_marts
    from {{ ref('stg_disruptions') }} as claims
    inner join batches
        on batches.batch_id = claims.batch_id
    where {{ knowable }}
    {%- if state is not none %}
      and claims.disruption_id in (select disruption_id from touched_disruptions)
    {%- endif %}

),

next_counted_versions as (

    select
        counted.batch_id,
        counted.line_number,
        lead(counted.recorded_at) over (
            partition by counted.disruption_id
            order by {{ claim_version_order('counted') }}
        ) as next_recorded_at
    from versions as counted
    where counted.is_counted_in_marts

),

current_versions as (

    select batch_id, line_number
    from {{ ref('int_disruption_current_versions') }}

)

select
    versions.disruption_id,
    versions.recorded_at,
    versions.batch_id,
    versions.ocg_id,
    versions.disruption_date,
    versions.impact,
    versions.status,
    versions.tactic,
    versions.strand,
    versions.lead_agency,
    versions.force_area,
    versions.source_file,
    versions.line_number,
    case
        when versions.batch_status = 'discarded' then 'discarded_batch'
        when not versions.is_counted_in_marts then 'held_batch'
        when current_versions.batch_id is null then 'superseded'
        when versions.status = 'approved' then 'counted'
        when versions.status = 'claimed' then 'pending'
        else versions.status
    end as outcome,
    case
        when versions.is_counted_in_marts and current_versions.batch_id is null
            then next_counted_versions.next_recorded_at
    end as superseded_by_recorded_at,
    {{ as_of_date() }} as as_of_date
from versions
left join current_versions
    on current_versions.batch_id = versions.batch_id
   and current_versions.line_number = versions.line_number
left join next_counted_versions
    on next_counted_versions.batch_id = versions.batch_id
   and next_counted_versions.line_number = versions.line_number
