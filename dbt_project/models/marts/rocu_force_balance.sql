{#
  Does regional effort reach every force? For each force of the forces seed, under its
  ROCU, over one time frame: disruptions in the 12 months up to as_of, against the OCGs
  active (and highest-threat) at as_of. Shares are of the ROCU's total.
#}

with forces as (

    select force_code, rocu_code from {{ ref('forces') }}

),

disruptions_by_force as (

    select force_area, count(*) as disruptions_12m
    from {{ ref('int_disruptions_current') }}
    where is_counted
      and is_disruption
      and disruption_date > {{ add_months(as_of_date(), -12) }}
      and disruption_date <= {{ as_of_date() }}
    group by force_area

),

active_ocgs_by_force as (

    select
        lead_force,
        count(*) as active_ocgs,
        sum(case when is_high_threat_band then 1 else 0 end) as high_threat_ocgs
    from {{ ref('int_ocg_assessments') }}
    where is_latest_for_ocg and status = 'active'
    group by lead_force

),

per_force as (

    select
        forces.rocu_code as rocu,
        forces.force_code,
        cast(coalesce(disruptions_by_force.disruptions_12m, 0) as {{ dbt.type_bigint() }})
            as disruptions_12m,
        cast(coalesce(active_ocgs_by_force.active_ocgs, 0) as {{ dbt.type_bigint() }})
            as active_ocgs,
        cast(coalesce(active_ocgs_by_force.high_threat_ocgs, 0) as {{ dbt.type_bigint() }})
            as high_threat_ocgs
    from forces
    left join disruptions_by_force
        on disruptions_by_force.force_area = forces.force_code
    left join active_ocgs_by_force
        on active_ocgs_by_force.lead_force = forces.force_code

),

with_region_totals as (

    select
        per_force.*,
        sum(disruptions_12m) over (partition by rocu) as rocu_disruptions_12m,
        sum(active_ocgs) over (partition by rocu) as rocu_active_ocgs,
        sum(high_threat_ocgs) over (partition by rocu) as rocu_high_threat_ocgs
    from per_force

),

shares as (

    select
        with_region_totals.*,
        case when rocu_disruptions_12m > 0
            then cast(disruptions_12m as {{ type_double() }}) / rocu_disruptions_12m
        end as disruption_share,
        case when rocu_active_ocgs > 0
            then cast(active_ocgs as {{ type_double() }}) / rocu_active_ocgs
        end as active_ocg_share,
        case when rocu_high_threat_ocgs > 0
            then cast(high_threat_ocgs as {{ type_double() }}) / rocu_high_threat_ocgs
        end as high_threat_share
    from with_region_totals

)

select
    rocu,
    force_code,
    disruptions_12m,
    disruption_share,
    active_ocgs,
    active_ocg_share,
    high_threat_ocgs,
    high_threat_share,
    disruption_share - active_ocg_share as effort_gap,
    {{ as_of_date() }} as as_of_date
from shares
