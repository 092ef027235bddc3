{#
  The long-term effect rules of SPEC section 4, one row per OCG with total_disruptions > 0
  and per horizon h in var('effect_horizons_months'). Kept in one model so that dbt unit
  tests can exercise every rule on hand-written rows.

  baseline_date   = first_disruption_date (first counted disruption with impact <> none)
  baseline_score  = threat_score of the latest assessment with assessed_on <= baseline_date
  horizon_date    = baseline_date + h calendar months, clamped to month end
  score_at_horizon = threat_score of the latest assessment in (baseline_date, horizon_date],
                     only when horizon_date <= as_of
  effect: the first rule that holds of
    1 dismantled  archived+dismantled assessment in (baseline_date, min(horizon_date, as_of)]
    2 too_early   horizon_date > as_of
    3 insufficient_baseline   baseline_score is NULL
    4 not_reassessed          score_at_horizon is NULL
    5 reduced     pct_change <= -tolerance (baseline 0: score 0 -> no_change, > 0 -> strengthened)
    6 strengthened pct_change >= +tolerance
    7 no_change
#}

{%- set horizons = var('effect_horizons_months') %}

with baselines as (

    select
        ocg_id,
        first_disruption_date as baseline_date
    from {{ ref('int_ocg_disruption_counts') }}
    where total_disruptions > 0

),

assessments as (

    select ocg_id, assessed_on, threat_score, band, is_dismantled
    from {{ ref('int_ocg_assessments') }}

),

horizons as (

    {%- for months in horizons %}
    select {{ months }} as horizon_months
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

baseline_assessments as (

    select
        baselines.ocg_id,
        assessments.threat_score,
        assessments.band,
        row_number() over (
            partition by baselines.ocg_id order by assessments.assessed_on desc
        ) as recency
    from baselines
    inner join assessments
        on assessments.ocg_id = baselines.ocg_id
       and assessments.assessed_on <= baselines.baseline_date

),

horizon_windows as (

    select
        baselines.ocg_id,
        horizons.horizon_months,
        baselines.baseline_date,
        baseline_assessments.threat_score as baseline_score,
        baseline_assessments.band as baseline_band,
        {{ add_months('baselines.baseline_date', 'horizons.horizon_months') }} as horizon_date
    from baselines
    cross join horizons
    left join baseline_assessments
        on baseline_assessments.ocg_id = baselines.ocg_id
       and baseline_assessments.recency = 1

),

bounded_windows as (

    select
        horizon_windows.*,
        case
            when horizon_windows.horizon_date <= {{ as_of_date() }}
                then horizon_windows.horizon_date
            else {{ as_of_date() }}
        end as observed_until
    from horizon_windows

),

horizon_assessments as (

    select
        bounded_windows.ocg_id,
        bounded_windows.horizon_months,
        assessments.threat_score,
        row_number() over (
            partition by bounded_windows.ocg_id, bounded_windows.horizon_months
            order by assessments.assessed_on desc
        ) as recency
    from bounded_windows
    inner join assessments
        on assessments.ocg_id = bounded_windows.ocg_id
       and assessments.assessed_on > bounded_windows.baseline_date
       and assessments.assessed_on <= bounded_windows.horizon_date
    where bounded_windows.horizon_date <= {{ as_of_date() }}

),

dismantlings as (

    select
        bounded_windows.ocg_id,
        bounded_windows.horizon_months,
        min(assessments.assessed_on) as dismantled_on
    from bounded_windows
    inner join assessments
        on assessments.ocg_id = bounded_windows.ocg_id
       and assessments.is_dismantled
       and assessments.assessed_on > bounded_windows.baseline_date
       and assessments.assessed_on <= bounded_windows.observed_until
    group by bounded_windows.ocg_id, bounded_windows.horizon_months

),

measured as (

    select
        bounded_windows.ocg_id,
        bounded_windows.horizon_months,
        bounded_windows.baseline_date,
        bounded_windows.baseline_score,
        bounded_windows.baseline_band,
        bounded_windows.horizon_date,
        bounded_windows.observed_until,
        horizon_assessments.threat_score as score_at_horizon,
        horizon_assessments.threat_score - bounded_windows.baseline_score as score_change,
        case
            when bounded_windows.baseline_score <> 0
                then cast(
                    horizon_assessments.threat_score - bounded_windows.baseline_score
                    as {{ type_double() }}
                ) / bounded_windows.baseline_score
        end as pct_change,
        case when dismantlings.dismantled_on is not null then true else false end
            as is_dismantled_within_horizon
    from bounded_windows
    left join horizon_assessments
        on horizon_assessments.ocg_id = bounded_windows.ocg_id
       and horizon_assessments.horizon_months = bounded_windows.horizon_months
       and horizon_assessments.recency = 1
    left join dismantlings
        on dismantlings.ocg_id = bounded_windows.ocg_id
       and dismantlings.horizon_months = bounded_windows.horizon_months

)

select
    measured.*,
    case
        when is_dismantled_within_horizon then 'dismantled'
        when horizon_date > {{ as_of_date() }} then 'too_early'
        when baseline_score is null then 'insufficient_baseline'
        when score_at_horizon is null then 'not_reassessed'
        when baseline_score = 0 then
            case when score_at_horizon > 0 then 'strengthened' else 'no_change' end
        when pct_change <= -{{ effect_tolerance() }} then 'reduced'
        when pct_change >= {{ effect_tolerance() }} then 'strengthened'
        else 'no_change'
    end as effect,
    {{ as_of_date() }} as as_of_date
from measured
