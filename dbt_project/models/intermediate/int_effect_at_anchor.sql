{#
  THE long-term effect rules of SPEC section 4, written once for any (OCG, anchor date):
  one row per anchor of int_effect_anchors and per horizon h in
  var('effect_horizons_months'). ocg_long_term_effect reads it at the OCG's first
  disruption, tactic_effectiveness at each tactic's first use against the OCG. dbt unit
  tests exercise every rule on hand-written rows.

  anchor_date      the anchor (the baseline date)
  baseline_score   = threat_score of the latest assessment with assessed_on <= anchor_date
  horizon_date     = anchor_date + h calendar months, clamped to month end
  score_at_horizon = threat_score of the latest assessment in (anchor_date, horizon_date],
                     only when horizon_date <= as_of
  effect: the first rule that holds of
    1 dismantled  archived+dismantled assessment in (anchor_date, min(horizon_date, as_of)]
    2 too_early   horizon_date > as_of
    3 insufficient_baseline   baseline_score is NULL
    4 not_reassessed          score_at_horizon is NULL
    5 reduced     pct_change <= -tolerance (baseline 0: score 0 -> no_change, > 0 -> strengthened)
    6 strengthened pct_change >= +tolerance
    7 no_change
  The effect names are the effect_categories seed's (a data test checks every value).

  Incremental, because every anchor is measured again each night otherwise. An OCG's rows
  depend only on its own anchors and assessments, the settings and as_of, so a build
  measures again only the OCGs (delete+insert by ocg_id) that gained or lost an anchor,
  gained a knowable assessment (ocgs_that_gained_an_assessment), or had a window still
  open at the previous build (too early, or dismantled before its horizon) whose horizon
  has passed since; all of them if the effect
  settings changed. The other rows only get the new observed_until and as_of_date
  (post-hooks), and rows of lost anchors are deleted, which equals a full rebuild. The
  previous build is int_effect_at_anchor_state, guarded like the other incremental
  models.
#}
{{
    config(
        materialized=incremental_where_supported(),
        incremental_strategy='delete+insert',
        unique_key='ocg_id',
        on_schema_change='fail',
        post_hook=[
            "{{ delete_effect_rows_of_lost_anchors() }}",
            "{{ refresh_as_of_date_of_kept_rows(
                also_set='observed_until = ' ~ observed_until('horizon_date')) }}",
        ]
    )
}}

-- The incremental run's reads, inside a conditional that dbt cannot see through:
-- depends_on: {{ ref('stg_load_batches') }}
-- depends_on: {{ ref('stg_ocg_assessments') }}

{%- set horizons = var('effect_horizons_months') %}
{%- set state = none %}
{%- if is_incremental() %}
    {%- set state = incremental_build_state(this, 'int_effect_at_anchor_state') %}
{%- endif %}

with

{%- if state is not none %}

counted_batches as (

    select batch_id
    from {{ ref('stg_load_batches') }}
    where is_counted_in_marts

),

{{ previous_build_ctes(state) }}

settings_changed as (

    select count(*) as builds
    from {{ state }} as previous
    where previous.effect_tolerance <> {{ effect_tolerance() }}
       or previous.effect_horizons <> {{ effect_horizons_text() }}

),

touched_ocgs as (

    select gained.ocg_id
    from (
        select ocg_id, anchor_date from {{ ref('int_effect_anchors') }}
        except
        select ocg_id, anchor_date from {{ this }}
    ) as gained
    union
    select lost.ocg_id
    from (
        select ocg_id, anchor_date from {{ this }}
        except
        select ocg_id, anchor_date from {{ ref('int_effect_anchors') }}
    ) as lost
    union
    {{ ocgs_that_gained_an_assessment() }}
    union
    -- Windows still open at the previous build whose horizon has passed since: too
    -- early then, or already dismantled, their score at the horizon is measured now.
    -- (Every row kept holds the previous build's as_of_date.)
    select previous.ocg_id
    from {{ this }} as previous
    where previous.horizon_date > previous.as_of_date
      and previous.horizon_date <= {{ as_of_date() }}
    union
    select anchors.ocg_id
    from {{ ref('int_effect_anchors') }} as anchors
    cross join settings_changed
    where settings_changed.builds > 0

),

{%- endif %}

anchors as (

    select ocg_id, anchor_date
    from {{ ref('int_effect_anchors') }}
    {%- if state is not none %}
    where ocg_id in (select ocg_id from touched_ocgs)
    {%- endif %}

),

assessments as (

    select ocg_id, assessed_on, threat_score, band, is_dismantled
    from {{ ref('int_ocg_assessments') }}
    {%- if state is not none %}
    where ocg_id in (select ocg_id from touched_ocgs)
    {%- endif %}

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
        anchors.ocg_id,
        anchors.anchor_date,
        assessments.assessed_on,
        assessments.threat_score,
        assessments.band,
        row_number() over (
            partition by anchors.ocg_id, anchors.anchor_date
            order by assessments.assessed_on desc
        ) as recency
    from anchors
    inner join assessments
        on assessments.ocg_id = anchors.ocg_id
       and assessments.assessed_on <= anchors.anchor_date

),

horizon_windows as (

    select
        anchors.ocg_id,
        anchors.anchor_date,
        horizons.horizon_months,
        baseline_assessments.assessed_on as baseline_assessed_on,
        baseline_assessments.threat_score as baseline_score,
        baseline_assessments.band as baseline_band,
        {{ add_months('anchors.anchor_date', 'horizons.horizon_months') }} as horizon_date
    from anchors
    cross join horizons
    left join baseline_assessments
        on baseline_assessments.ocg_id = anchors.ocg_id
       and baseline_assessments.anchor_date = anchors.anchor_date
       and baseline_assessments.recency = 1

),

bounded_windows as (

    select
        horizon_windows.*,
        {{ observed_until('horizon_windows.horizon_date') }} as observed_until
    from horizon_windows

),

horizon_assessments as (

    select
        bounded_windows.ocg_id,
        bounded_windows.anchor_date,
        bounded_windows.horizon_months,
        assessments.assessed_on,
        assessments.threat_score,
        row_number() over (
            partition by
                bounded_windows.ocg_id,
                bounded_windows.anchor_date,
                bounded_windows.horizon_months
            order by assessments.assessed_on desc
        ) as recency
    from bounded_windows
    inner join assessments
        on assessments.ocg_id = bounded_windows.ocg_id
       and assessments.assessed_on > bounded_windows.anchor_date
       and assessments.assessed_on <= bounded_windows.horizon_date
    where bounded_windows.horizon_date <= {{ as_of_date() }}

),

dismantlings as (

    select
        bounded_windows.ocg_id,
        bounded_windows.anchor_date,
        bounded_windows.horizon_months,
        min(assessments.assessed_on) as dismantled_on
    from bounded_windows
    inner join assessments
        on assessments.ocg_id = bounded_windows.ocg_id
       and assessments.is_dismantled
       and assessments.assessed_on > bounded_windows.anchor_date
       and assessments.assessed_on <= bounded_windows.observed_until
    group by bounded_windows.ocg_id, bounded_windows.anchor_date, bounded_windows.horizon_months

),

measured as (

    select
        bounded_windows.ocg_id,
        bounded_windows.anchor_date,
        bounded_windows.horizon_months,
        bounded_windows.baseline_assessed_on,
        bounded_windows.baseline_score,
        bounded_windows.baseline_band,
        bounded_windows.horizon_date,
        bounded_windows.observed_until,
        horizon_assessments.assessed_on as horizon_assessed_on,
        horizon_assessments.threat_score as score_at_horizon,
        horizon_assessments.threat_score - bounded_windows.baseline_score as score_change,
        case
            when bounded_windows.baseline_score <> 0
                then cast(
                    horizon_assessments.threat_score - bounded_windows.baseline_score
                    as {{ type_double() }}
                ) / bounded_windows.baseline_score
        end as pct_change,
        dismantlings.dismantled_on,
        case when dismantlings.dismantled_on is not null then true else false end
            as is_dismantled_within_horizon
    from bounded_windows
    left join horizon_assessments
        on horizon_assessments.ocg_id = bounded_windows.ocg_id
       and horizon_assessments.anchor_date = bounded_windows.anchor_date
       and horizon_assessments.horizon_months = bounded_windows.horizon_months
       and horizon_assessments.recency = 1
    left join dismantlings
        on dismantlings.ocg_id = bounded_windows.ocg_id
       and dismantlings.anchor_date = bounded_windows.anchor_date
       and dismantlings.horizon_months = bounded_windows.horizon_months

),

ruled as (

    select
        measured.*,
        case
            when is_dismantled_within_horizon then 1
            when horizon_date > {{ as_of_date() }} then 2
            when baseline_score is null then 3
            when score_at_horizon is null then 4
            -- Rule 5 also decides a zero baseline: 0 stays no_change, more strengthened.
            when baseline_score = 0 then 5
            when pct_change <= -{{ effect_tolerance() }} then 5
            when pct_change >= {{ effect_tolerance() }} then 6
            else 7
        end as effect_rule
    from measured

)

select
    ruled.*,
    case effect_rule
        when 1 then 'dismantled'
        when 2 then 'too_early'
        when 3 then 'insufficient_baseline'
        when 4 then 'not_reassessed'
        when 5 then
            case
                when baseline_score <> 0 then 'reduced'
                when score_at_horizon > 0 then 'strengthened'
                else 'no_change'
            end
        when 6 then 'strengthened'
        else 'no_change'
    end as effect,
    {{ as_of_date() }} as as_of_date
from ruled
