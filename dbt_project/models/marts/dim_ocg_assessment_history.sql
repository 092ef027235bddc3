{#
  SCD2 history of OCG assessments as knowable at as_of. Derived from the assessments'
  own effective dates rather than a dbt snapshot: see the YAML description for why.
#}

select
    ocg_id,
    assessed_on as valid_from,
    next_assessed_on as valid_to,
    is_latest_for_ocg as is_current,
    threat_score,
    band,
    band_rank,
    status,
    archive_reason,
    lead_force,
    lead_force_rocu as rocu,
    principal_activity,
    member_count,
    {{ as_of_date() }} as as_of_date
from {{ ref('int_ocg_assessments') }}
