{#
  OCG assessments as knowable at as_of (int_ocg_assessments_ranked, where the assessment
  rule lives) with the band's rank and high-threat flag (ocg_bands seed), the lead force's ROCU (forces seed)
  and the run's as_of. A view: the joins are with tiny tables, and keeping the seeds and
  as_of out of the incremental table means an edited seed or a new as_of applies at once.
#}
{{ config(materialized='view') }}

select
    assessments.ocg_id,
    assessments.assessed_on,
    assessments.threat_score,
    assessments.band,
    ocg_bands.rank as band_rank,
    coalesce(ocg_bands.high_threat, false) as is_high_threat_band,
    assessments.status,
    assessments.archive_reason,
    assessments.is_dismantled,
    assessments.lead_force,
    forces.rocu_code as lead_force_rocu,
    assessments.principal_activity,
    assessments.member_count,
    assessments.next_assessed_on,
    assessments.is_latest_for_ocg,
    assessments.batch_id,
    assessments.line_number,
    {{ as_of_date() }} as as_of_date
from {{ ref('int_ocg_assessments_ranked') }} as assessments
left join {{ ref('ocg_bands') }} as ocg_bands
    on ocg_bands.band = assessments.band
left join {{ ref('forces') }} as forces
    on forces.force_code = assessments.lead_force
