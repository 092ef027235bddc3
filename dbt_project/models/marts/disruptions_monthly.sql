{#
  Counted claims per calendar month of disruption_date x ROCU of the force area x force
  area x lead agency x strand x tactic x impact. Rows with impact none count claims that
  had no effect (is_disruption false): disruptions are the claims where is_disruption.
#}

select
    cast({{ dbt.date_trunc('month', 'disruption_date') }} as date) as disruption_month,
    force_rocu as rocu,
    force_area,
    lead_agency,
    strand,
    tactic,
    impact,
    is_disruption,
    count(*) as claim_count,
    cast(sum(impact_weight) as {{ dbt.type_bigint() }}) as net_disruption_score,
    {{ as_of_date() }} as as_of_date
from {{ ref('int_disruptions_current') }}
where is_counted
group by
    cast({{ dbt.date_trunc('month', 'disruption_date') }} as date),
    force_rocu,
    force_area,
    lead_agency,
    strand,
    tactic,
    impact,
    is_disruption
