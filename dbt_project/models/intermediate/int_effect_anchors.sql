{#
  Every (OCG, anchor date) the effect rules are measured from: each disrupted OCG's first
  disruption (for ocg_long_term_effect) and each tactic's first use against an OCG (for
  tactic_effectiveness). Distinct, so an anchor both share is measured once.
#}

select ocg_id, first_disruption_date as anchor_date
from {{ ref('int_ocg_disruption_counts') }}
where total_disruptions > 0

union

select ocg_id, anchor_date
from {{ ref('int_tactic_anchors') }}
