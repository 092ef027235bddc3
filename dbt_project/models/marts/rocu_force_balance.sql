{#
  Per ROCU and constituent force (the forces seed): the force's share of the ROCU's
  counted disruptions against its share of the ROCU's active OCGs and of its
  highest-threat active OCGs.
#}

with forces as (

    select force_code, rocu_code from {{ ref('forces') }}

),

disruptions_by_force as (

    select force_area, count(*) as disruption_count
    from {{ ref('int_disruptions_current') }}
    where is_counted and is_disruption
    group by force_area

),

active_ocgs_by_force as (

    select
        lead_force,
        count(*) as active_ocgs,
        sum(
            case when band_rank <= {{ var('highest_threat_max_band_rank') }} then 1 else 0 end
        ) as highest_threat_active_ocgs
    from {{ ref('int_ocg_assessments') }}
    where is_latest_for_ocg and status = 'active'
    group by lead_force

),

per_force as (

    select
        forces.rocu_code as rocu,
        forces.force_code,
        cast(coalesce(disruptions_by_force.disruption_count, 0) as {{ dbt.type_bigint() }})
            as force_disruptions,
        cast(coalesce(active_ocgs_by_force.active_ocgs, 0) as {{ dbt.type_bigint() }})
            as force_active_ocgs,
        cast(coalesce(active_ocgs_by_force.highest_threat_active_ocgs, 0)
            as {{ dbt.type_bigint() }}) as force_highest_threat_active_ocgs
    from forces
    left join disruptions_by_force
        on disruptions_by_force.force_area = forces.force_code
    left join active_ocgs_by_force
        on active_ocgs_by_force.lead_force = forces.force_code

),

with_region_totals as (

    select
        per_force.*,
        cast(sum(force_disruptions) over (partition by rocu) as {{ dbt.type_bigint() }})
            as rocu_disruptions,
        cast(sum(force_active_ocgs) over (partition by rocu) as {{ dbt.type_bigint() }})
            as rocu_active_ocgs,
        cast(sum(force_highest_threat_active_ocgs) over (partition by rocu)
            as {{ dbt.type_bigint() }}) as rocu_highest_threat_active_ocgs
    from per_force

),

shares as (

    select
        with_region_totals.*,
        case when rocu_disruptions > 0
            then cast(force_disruptions as {{ type_double() }}) / rocu_disruptions
        end as disruption_share,
        case when rocu_active_ocgs > 0
            then cast(force_active_ocgs as {{ type_double() }}) / rocu_active_ocgs
        end as active_ocg_share,
        case when rocu_highest_threat_active_ocgs > 0
            then cast(force_highest_threat_active_ocgs as {{ type_double() }})
                / rocu_highest_threat_active_ocgs
        end as highest_threat_ocg_share
    from with_region_totals

)

select
    rocu,
    force_code,
    force_disruptions,
    rocu_disruptions,
    disruption_share,
    force_active_ocgs,
    rocu_active_ocgs,
    active_ocg_share,
    force_highest_threat_active_ocgs,
    rocu_highest_threat_active_ocgs,
    highest_threat_ocg_share,
    disruption_share - active_ocg_share as active_ocg_share_gap,
    disruption_share - highest_threat_ocg_share as highest_threat_share_gap,
    {{ as_of_date() }} as as_of_date
from shares
