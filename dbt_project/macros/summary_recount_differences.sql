{#
    The rows where a recount of ocg_disruption_summary disagrees with it: the comparison
    both recount tests end with (assert_summary_recounts_from_sources and
    assert_summary_recounts_from_counted_claims). Each builds its own CTE `recount` with
    one row per ocg_id: counted, <level>_count per impact level, total_disruptions,
    pending_claims, net_disruption_score, first_disruption_date, last_disruption_date,
    and a CTE `summary` over the model. How they recount differs; what "agrees" means
    does not, so it is written once here.
#}
{% macro summary_recount_differences() %}
select
    coalesce(summary.ocg_id, recount.ocg_id) as ocg_id,
    case
        when summary.ocg_id is null then 'counted but missing from the summary'
        when recount.ocg_id is null then 'in the summary with counts the recount does not have'
        else 'figures differ'
    end as problem
from summary
full outer join recount
    on recount.ocg_id = summary.ocg_id
where (summary.ocg_id is null and recount.counted > 0)
   or (recount.ocg_id is null
       and summary.total_disruptions + summary.none_count + summary.pending_claims <> 0)
   or (summary.ocg_id is not null and recount.ocg_id is not null and (
        {%- for level in impact_levels() %}
        summary.{{ level }}_count <> recount.{{ level }}_count or
        {%- endfor %}
        summary.total_disruptions <> recount.total_disruptions
        or summary.pending_claims <> recount.pending_claims
        or summary.net_disruption_score <> recount.net_disruption_score
        or coalesce(summary.first_disruption_date <> recount.first_disruption_date,
                    summary.first_disruption_date is not null
                    or recount.first_disruption_date is not null)
        or coalesce(summary.last_disruption_date <> recount.last_disruption_date,
                    summary.last_disruption_date is not null
                    or recount.last_disruption_date is not null)
   ))
{% endmacro %}
