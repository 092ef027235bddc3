{#
  THE assessment rule, implemented once: assessments of counted batches with
  assessed_on <= as_of, one row per (ocg_id, assessed_on), the one loaded last winning
  (load order batch_id, line_number). Also flags each OCG's latest assessment.
#}

with counted_batches as (

    select batch_id
    from {{ ref('stg_load_batches') }}
    where is_counted_in_marts

),

knowable_rows as (

    select assessments.*
    from {{ ref('stg_ocg_assessments') }} as assessments
    inner join counted_batches
        on counted_batches.batch_id = assessments.batch_id
    where assessments.assessed_on <= {{ as_of_date() }}

),

ranked_rows as (

    select
        knowable_rows.*,
        row_number() over (
            partition by ocg_id, assessed_on
            order by batch_id desc, line_number desc
        ) as load_recency
    from knowable_rows

),

assessments as (

    select * from ranked_rows where load_recency = 1

)

select
    assessments.ocg_id,
    assessments.assessed_on,
    assessments.threat_score,
    assessments.band,
    ocg_bands.rank as band_rank,
    assessments.status,
    assessments.archive_reason,
    case
        when assessments.status = 'archived' and assessments.archive_reason = 'dismantled'
            then true
        else false
    end as is_dismantled,
    assessments.lead_force,
    forces.rocu_code as lead_force_rocu,
    assessments.principal_activity,
    assessments.member_count,
    lead(assessments.assessed_on) over (
        partition by assessments.ocg_id order by assessments.assessed_on
    ) as next_assessed_on,
    case
        when row_number() over (
            partition by assessments.ocg_id order by assessments.assessed_on desc
        ) = 1 then true
        else false
    end as is_latest_for_ocg,
    assessments.batch_id,
    assessments.line_number,
    {{ as_of_date() }} as as_of_date
from assessments
left join {{ ref('ocg_bands') }} as ocg_bands
    on ocg_bands.band = assessments.band
left join {{ ref('forces') }} as forces
    on forces.force_code = assessments.lead_force
