{#
  Every figure of ocg_disruption_summary recounts from fct_disruption_claims: its counted
  rows give each level's count, total_disruptions, net_disruption_score and the first and
  last disruption dates; its pending rows give pending_claims. So a lead who sums the
  claims behind a figure gets the figure. Fails with one row per OCG that differs.
#}
-- depends_on: {{ ref('impact_levels') }}

with claims as (

    select
        claims.ocg_id,
        claims.outcome,
        claims.impact,
        claims.disruption_date,
        levels.weight,
        levels.is_disruption
    from {{ ref('fct_disruption_claims') }} as claims
    left join {{ ref('impact_levels') }} as levels
        on levels.impact = claims.impact
    where claims.outcome in ('counted', 'pending')

),

recount as (

    select
        ocg_id,
        {%- for level in impact_levels() %}
        sum(case when outcome = 'counted' and impact = '{{ level }}' then 1 else 0 end)
            as {{ level }}_count,
        {%- endfor %}
        sum(case when outcome = 'counted' and is_disruption then 1 else 0 end)
            as total_disruptions,
        sum(case when outcome = 'counted' then 1 else 0 end) as counted,
        sum(case when outcome = 'pending' then 1 else 0 end) as pending_claims,
        sum(case when outcome = 'counted' then weight else 0 end) as net_disruption_score,
        min(case when outcome = 'counted' and is_disruption then disruption_date end)
            as first_disruption_date,
        max(case when outcome = 'counted' and is_disruption then disruption_date end)
            as last_disruption_date
    from claims
    group by ocg_id

),

summary as (

    select * from {{ ref('ocg_disruption_summary') }}

)

{{ summary_recount_differences() }}
