{#
  One row per OCG that appears in a counted disruption or in an assessment (as of as_of).
#}
-- depends_on: {{ ref('impact_levels') }}

with counts as (

    select * from {{ ref('int_ocg_disruption_counts') }}

),

latest_assessments as (

    select *
    from {{ ref('int_ocg_assessments') }}
    where is_latest_for_ocg

),

ocgs as (

    select ocg_id from counts where counted_disruptions > 0
    union
    select ocg_id from latest_assessments

)

select
    ocgs.ocg_id,
    latest_assessments.lead_force,
    latest_assessments.lead_force_rocu as rocu,
    latest_assessments.status as current_status,
    latest_assessments.threat_score as current_threat_score,
    latest_assessments.band as current_band,
    {%- for level in impact_levels() %}
    coalesce(counts.{{ level }}_count, 0) as {{ level }}_count,
    {%- endfor %}
    coalesce(counts.total_disruptions, 0) as total_disruptions,
    coalesce(counts.pending_claims, 0) as pending_claims,
    coalesce(counts.net_disruption_score, 0) as net_disruption_score,
    counts.first_disruption_date,
    counts.last_disruption_date,
    {{ as_of_date() }} as as_of_date
from ocgs
left join counts
    on counts.ocg_id = ocgs.ocg_id
left join latest_assessments
    on latest_assessments.ocg_id = ocgs.ocg_id
