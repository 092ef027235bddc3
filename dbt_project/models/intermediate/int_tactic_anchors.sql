{#
  Each (tactic, OCG) pair: a tactic used against an OCG in at least one counted disruption
  with impact other than none. Its anchor is the first such disruption_date, so a
  tactic's effect is measured from when it was used, not from the OCG's first disruption.
#}

select
    tactic,
    ocg_id,
    min(disruption_date) as anchor_date
from {{ ref('int_disruptions_current') }}
where is_counted and is_disruption
group by tactic, ocg_id
