{#
  THE versioning rule, implemented once; every mart that counts disruptions builds on it.

  1. Only versions from batches that count (status loaded in audit.load_batches).
  2. Point in time: versions recorded before as_of + 1 day, with disruption_date <= as_of.
  3. The current version of each disruption_id is the latest survivor, ordered by
     recorded_at, then load order (batch_id, line_number).
  Counted = current version approved; pending = current version claimed. A withdrawn or
  rejected current version is neither, so a withdrawal removes an earlier approval.
#}

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

ranked_versions as (

    select
        knowable_versions.*,
        row_number() over (
            partition by disruption_id
            order by recorded_at desc, batch_id desc, line_number desc
        ) as version_recency
    from knowable_versions

)

select
    ranked_versions.disruption_id,
    ranked_versions.ocg_id,
    ranked_versions.disruption_date,
    ranked_versions.recorded_at,
    ranked_versions.impact,
    ranked_versions.strand,
    ranked_versions.tactic,
    ranked_versions.lead_agency,
    ranked_versions.force_area,
    forces.rocu_code as force_rocu,
    ranked_versions.status,
    ranked_versions.operation,
    impact_levels.weight as impact_weight,
    impact_levels.is_disruption,
    case when ranked_versions.status = 'approved' then true else false end as is_counted,
    case when ranked_versions.status = 'claimed' then true else false end as is_pending,
    ranked_versions.batch_id,
    ranked_versions.line_number,
    {{ as_of_date() }} as as_of_date
from ranked_versions
left join {{ ref('impact_levels') }} as impact_levels
    on impact_levels.impact = ranked_versions.impact
left join {{ ref('forces') }} as forces
    on forces.force_code = ranked_versions.force_area
where ranked_versions.version_recency = 1
