{#
  For each tactic of the tactics seed: the OCGs it was used against and how they fared 12
  months after the tactic's first use against them. A pair is (tactic, OCG) with at least
  one counted disruption with impact other than none using that tactic; its anchor is the
  first such disruption_date (int_tactic_anchors), and its effect is the effect rules'
  (int_effect_at_anchor) at that anchor. Association after first use, not cause.
#}
-- depends_on: {{ ref('effect_categories') }}

{%- set effects = effect_categories() %}
{%- set outcomes = outcome_effect_categories() %}

with pairs as (

    select
        anchors.tactic,
        anchors.ocg_id,
        effects.effect as effect_12m,
        effects.pct_change as pct_change_12m
    from {{ ref('int_tactic_anchors') }} as anchors
    inner join {{ ref('int_effect_at_anchor') }} as effects
        on effects.ocg_id = anchors.ocg_id
       and effects.anchor_date = anchors.anchor_date
       and effects.horizon_months = 12

),

tallies as (

    select
        tactic,
        count(*) as ocgs_targeted,
        {%- for effect in effects %}
        sum(case when effect_12m = '{{ effect }}' then 1 else 0 end) as {{ effect }}_12m,
        {%- endfor %}
        -- Exact decimal sum: a float sum depends on the order rows arrive in, and the mean
        -- must not differ between an incremental build and a full refresh.
        avg(cast(pct_change_12m as decimal(38, 12))) as mean_pct_change_12m
    from pairs
    group by tactic

),

measured as (

    select
        tallies.*,
        {%- for effect in outcomes %}
        {{ effect }}_12m {% if not loop.last %}+{% endif %}
        {%- endfor %}
            as ocgs_measured_12m
    from tallies

)

select
    tactics.tactic,
    cast(coalesce(measured.ocgs_targeted, 0) as {{ dbt.type_bigint() }}) as ocgs_targeted,
    cast(coalesce(measured.ocgs_measured_12m, 0) as {{ dbt.type_bigint() }})
        as ocgs_measured_12m,
    {%- for effect in effects %}
    cast(coalesce(measured.{{ effect }}_12m, 0) as {{ dbt.type_bigint() }}) as {{ effect }}_12m,
    {%- endfor %}
    {%- for effect in outcomes %}
    case
        when measured.ocgs_measured_12m > 0
            then cast(measured.{{ effect }}_12m as {{ type_double() }})
                / measured.ocgs_measured_12m
    end as share_{{ effect }}_12m,
    {%- endfor %}
    cast(measured.mean_pct_change_12m as {{ type_double() }}) as mean_pct_change_12m,
    {{ as_of_date() }} as as_of_date
from {{ ref('tactics') }} as tactics
left join measured
    on measured.tactic = tactics.tactic
