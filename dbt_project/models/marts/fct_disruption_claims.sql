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
#}

with batches as (

    -- Batches whose rows are in raw: loaded (counted) or held (held or discarded).
    select batch_id, source_file, batch_status, is_counted_in_marts
    from {{ ref('stg_load_batches') }}
    where status in ('loaded', 'held')

),

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
    where claims.recorded_at < {{ as_of_cutoff_timestamp() }}
      and claims.disruption_date <= {{ as_of_date() }}

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
