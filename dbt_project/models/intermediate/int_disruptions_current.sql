{#
  The current version of each disruption (int_disruption_current_versions) with its
  reference attributes from the seeds: impact weight and is_disruption (impact_levels)
  and the ROCU of the force area (forces). A view: the joins are with tiny tables, and
  keeping the seeds out of the incremental table means an edited weight applies at once.
#}
{{ config(materialized='view') }}

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
    forces.rocu_code as force_rocu,
    versions.status,
    versions.operation,
    impact_levels.weight as impact_weight,
    impact_levels.is_disruption,
    versions.is_counted,
    versions.is_pending,
    versions.batch_id,
    versions.line_number,
    {{ as_of_date() }} as as_of_date
from {{ ref('int_disruption_current_versions') }} as versions
left join {{ ref('impact_levels') }} as impact_levels
    on impact_levels.impact = versions.impact
left join {{ ref('forces') }} as forces
    on forces.force_code = versions.force_area
