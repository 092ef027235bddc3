{#
  Why each OCG's effect_6m and effect_12m is what it is: for each OCG of
  ocg_long_term_effect and each horizon, the assessments the effect rules used (the
  baseline's and the horizon's), the windows, the first dismantling, and the number of
  the rule that decided. `disruptions explain` and the report read it.
#}

with baselines as (

    select ocg_id, first_disruption_date as baseline_date
    from {{ ref('int_ocg_disruption_counts') }}
    where total_disruptions > 0

)

select
    effects.ocg_id,
    effects.horizon_months,
    effects.anchor_date as baseline_date,
    effects.baseline_assessed_on,
    effects.baseline_score,
    effects.baseline_band,
    effects.horizon_date,
    effects.observed_until,
    effects.horizon_assessed_on,
    effects.score_at_horizon,
    effects.pct_change,
    effects.dismantled_on,
    effects.effect_rule,
    effects.effect,
    {{ effect_tolerance() }} as tolerance,
    {{ as_of_date() }} as as_of_date
from {{ ref('int_effect_at_anchor') }} as effects
inner join baselines
    on baselines.ocg_id = effects.ocg_id
   and baselines.baseline_date = effects.anchor_date
