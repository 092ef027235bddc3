{#
  Per OCG, counted disruptions by impact level, pending claims, net score (weights from
  the impact_levels seed) and the first/last date of a counted disruption that is a
  disruption (impact other than none, per the seed's is_disruption).
#}
-- depends_on: {{ ref('impact_levels') }}

with current_versions as (

    select *
    from {{ ref('int_disruptions_current') }}
    where is_counted or is_pending

)

select
    ocg_id,
    {%- for level in impact_levels() %}
    cast(sum(case when is_counted and impact = '{{ level }}' then 1 else 0 end)
        as {{ dbt.type_bigint() }}) as {{ level }}_count,
    {%- endfor %}
    cast(sum(case when is_counted and is_disruption then 1 else 0 end)
        as {{ dbt.type_bigint() }}) as total_disruptions,
    cast(sum(case when is_counted then 1 else 0 end)
        as {{ dbt.type_bigint() }}) as counted_disruptions,
    cast(sum(case when is_pending then 1 else 0 end)
        as {{ dbt.type_bigint() }}) as pending_claims,
    cast(sum(case when is_counted then impact_weight else 0 end)
        as {{ dbt.type_bigint() }}) as net_disruption_score,
    min(case when is_counted and is_disruption then disruption_date end)
        as first_disruption_date,
    max(case when is_counted and is_disruption then disruption_date end)
        as last_disruption_date
from current_versions
group by ocg_id
