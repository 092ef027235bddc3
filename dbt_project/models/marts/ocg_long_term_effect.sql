{#
  One row per OCG with total_disruptions > 0: the effect rules (int_effect_at_anchor)
  at the OCG's first disruption, pivoted to one column group per horizon, plus the
  12-month extras.
#}

{%- set horizons = var('effect_horizons_months') %}
{%- if 12 not in horizons %}
    {{ exceptions.raise_compiler_error("effect_horizons_months must include 12: ocg_long_term_effect has *_12m columns") }}
{%- endif %}

with baselines as (

    select ocg_id, first_disruption_date as baseline_date
    from {{ ref('int_ocg_disruption_counts') }}
    where total_disruptions > 0

),

effects as (

    select effects.*
    from {{ ref('int_effect_at_anchor') }} as effects
    inner join baselines
        on baselines.ocg_id = effects.ocg_id
       and baselines.baseline_date = effects.anchor_date

),

first_dismantlings as (

    select
        baselines.ocg_id,
        min(assessments.assessed_on) as dismantled_on
    from baselines
    inner join {{ ref('int_ocg_assessments') }} as assessments
        on assessments.ocg_id = baselines.ocg_id
       and assessments.is_dismantled
       and assessments.assessed_on > baselines.baseline_date
    group by baselines.ocg_id

),

disruptions_after_baseline as (

    -- Within the 12-month horizon the effect rules measure: (baseline, horizon_date].
    select
        effects.ocg_id,
        count(*) as disruption_count
    from effects
    inner join {{ ref('int_disruptions_current') }} as disruptions
        on disruptions.ocg_id = effects.ocg_id
       and disruptions.is_counted
       and disruptions.is_disruption
       and disruptions.disruption_date > effects.anchor_date
       and disruptions.disruption_date <= effects.horizon_date
    where effects.horizon_months = 12
    group by effects.ocg_id

),

pivoted as (

    select
        ocg_id,
        max(baseline_score) as baseline_score,
        max(baseline_band) as baseline_band,
        {%- for months in horizons %}
        max(case when horizon_months = {{ months }} then score_at_horizon end)
            as score_{{ months }}m,
        max(case when horizon_months = {{ months }} then score_change end)
            as score_change_{{ months }}m,
        max(case when horizon_months = {{ months }} then pct_change end)
            as pct_change_{{ months }}m,
        max(case when horizon_months = {{ months }} then effect end)
            as effect_{{ months }}m,
        {%- endfor %}
        max(
            case when horizon_months = 12 and is_dismantled_within_horizon then 1 else 0 end
        ) as dismantled_within_12m_flag
    from effects
    group by ocg_id

)

select
    baselines.ocg_id,
    baselines.baseline_date,
    pivoted.baseline_score,
    pivoted.baseline_band,
    {%- for months in horizons %}
    pivoted.score_{{ months }}m,
    pivoted.score_change_{{ months }}m,
    pivoted.pct_change_{{ months }}m,
    pivoted.effect_{{ months }}m,
    {%- endfor %}
    case when pivoted.dismantled_within_12m_flag = 1 then true else false end
        as dismantled_within_12m,
    cast(
        {{ dbt.datediff('baselines.baseline_date', 'first_dismantlings.dismantled_on', 'day') }}
        as integer
    ) as days_to_dismantle,
    coalesce(disruptions_after_baseline.disruption_count, 0)
        as disruptions_after_baseline_12m,
    {{ as_of_date() }} as as_of_date
from baselines
inner join pivoted
    on pivoted.ocg_id = baselines.ocg_id
left join first_dismantlings
    on first_dismantlings.ocg_id = baselines.ocg_id
left join disruptions_after_baseline
    on disruptions_after_baseline.ocg_id = baselines.ocg_id
