{#
  For each tactic (every row of the tactics seed), the OCGs it was used against (a counted
  disruption with impact other than none, using that tactic, on or before as_of) and how
  they fared over 12 months after their baseline, from ocg_long_term_effect.effect_12m.
#}
-- depends_on: {{ ref('effect_categories') }}

with tactic_ocgs as (

    select distinct tactic, ocg_id
    from {{ ref('int_disruptions_current') }}
    where is_counted and is_disruption

),

outcomes as (

    select
        tactic_ocgs.tactic,
        tactic_ocgs.ocg_id,
        effects.effect_12m,
        effects.pct_change_12m
    from tactic_ocgs
    inner join {{ ref('ocg_long_term_effect') }} as effects
        on effects.ocg_id = tactic_ocgs.ocg_id

),

tallies as (

    select
        tactic,
        count(*) as ocgs_disrupted,
        sum(case when effect_12m <> 'too_early' then 1 else 0 end) as ocgs_with_12m_outcome,
        {%- for effect in effect_categories() %}
        sum(case when effect_12m = '{{ effect }}' then 1 else 0 end) as {{ effect }}_12m,
        {%- endfor %}
        -- Exact decimal sum: a float sum depends on the order rows arrive in, and the mean
        -- must not differ between an incremental build and a full refresh.
        avg(cast(pct_change_12m as decimal(38, 12))) as mean_pct_change_12m
    from outcomes
    group by tactic

)

select
    tactics.tactic,
    cast(coalesce(tallies.ocgs_disrupted, 0) as {{ dbt.type_bigint() }}) as ocgs_disrupted,
    cast(coalesce(tallies.ocgs_with_12m_outcome, 0) as {{ dbt.type_bigint() }})
        as ocgs_with_12m_outcome,
    {%- for effect in effect_categories() %}
    cast(coalesce(tallies.{{ effect }}_12m, 0) as {{ dbt.type_bigint() }}) as {{ effect }}_12m,
    {%- endfor %}
    {%- for effect in ['dismantled', 'reduced', 'no_change', 'strengthened', 'not_reassessed'] %}
    case
        when tallies.ocgs_with_12m_outcome > 0
            then cast(tallies.{{ effect }}_12m as {{ type_double() }})
                / tallies.ocgs_with_12m_outcome
    end as share_{{ effect }}_12m,
    {%- endfor %}
    cast(tallies.mean_pct_change_12m as {{ type_double() }}) as mean_pct_change_12m,
    {{ as_of_date() }} as as_of_date
from {{ ref('tactics') }} as tactics
left join tallies
    on tallies.tactic = tactics.tactic
