{#
  The marts agree with each other and with the current versions they are built from.
  Fails with one row per reconciliation that does not hold, naming it.

  - every counted disruption is in the summary once, and in the monthly counts once;
  - the long-term effect has one row per OCG the summary shows as disrupted;
  - the force balance has one row per force of the seed and counts no more disruptions
    than the summary (its 12 months are a part of the whole history);
  - each tactic's 12-month effect counts add up to its pairs;
  - the effect evidence agrees with the long-term effect at every horizon;
  - the assessment history has exactly one current row per OCG.
#}
-- depends_on: {{ ref('effect_categories') }}

with current_versions as (

    select count(case when is_counted then 1 end) as counted
    from {{ ref('int_disruptions_current') }}

),

summary as (

    select
        coalesce(sum(total_disruptions + none_count), 0) as counted,
        coalesce(sum(total_disruptions), 0) as disruptions,
        count(case when total_disruptions > 0 then 1 end) as ocgs_disrupted
    from {{ ref('ocg_disruption_summary') }}

),

monthly as (

    select coalesce(sum(claim_count), 0) as counted
    from {{ ref('disruptions_monthly') }}

),

long_term as (

    select count(*) as ocgs from {{ ref('ocg_long_term_effect') }}

),

balance as (

    select coalesce(sum(disruptions_12m), 0) as disruptions, count(*) as forces
    from {{ ref('rocu_force_balance') }}

),

seed_forces as (

    select count(*) as forces from {{ ref('forces') }}

),

tactics_not_adding_up as (

    select tactic
    from {{ ref('tactic_effectiveness') }}
    where
        {%- for effect in effect_categories() %}
        {{ effect }}_12m {% if not loop.last %}+{% endif %}
        {%- endfor %}
        <> ocgs_targeted

),

evidence_disagreeing as (

    {%- set horizons = var('effect_horizons_months') %}
    select effects.ocg_id
    from {{ ref('ocg_long_term_effect') }} as effects
    left join {{ ref('fct_ocg_effect_evidence') }} as evidence
        on evidence.ocg_id = effects.ocg_id
    group by effects.ocg_id
        {%- for months in horizons %}, effects.effect_{{ months }}m{% endfor %}
    having count(evidence.ocg_id) <> {{ horizons | length }}
    {%- for months in horizons %}
        or max(case when evidence.horizon_months = {{ months }} then evidence.effect end)
            <> effects.effect_{{ months }}m
    {%- endfor %}

),

history as (

    select
        count(distinct ocg_id) as ocgs,
        count(case when is_current then 1 end) as current_rows
    from {{ ref('dim_ocg_assessment_history') }}

)

select 'summary counts every counted disruption once' as reconciliation
from summary cross join current_versions
where summary.counted <> current_versions.counted
union all
select 'monthly counts every counted disruption once'
from monthly cross join current_versions
where monthly.counted <> current_versions.counted
union all
select 'one long-term row per disrupted OCG'
from long_term cross join summary
where long_term.ocgs <> summary.ocgs_disrupted
union all
select 'the force balance counts no more than the summary''s disruptions'
from balance cross join summary
where balance.disruptions > summary.disruptions
union all
select 'one balance row per force of the seed'
from balance cross join seed_forces
where balance.forces <> seed_forces.forces
union all
select 'tactic ' || tactic || ': its 12-month effects add up to its pairs'
from tactics_not_adding_up
union all
select 'OCG ' || ocg_id || ': the effect evidence agrees with the long-term effect'
from evidence_disagreeing
union all
select 'one current history row per OCG'
from history
where history.ocgs <> history.current_rows
