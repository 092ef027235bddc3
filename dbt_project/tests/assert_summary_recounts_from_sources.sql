{#
  The independent recount: ocg_disruption_summary's figures recomputed straight from the
  sources (raw.disruptions and the load ledger), written differently from the models on
  purpose, so that a wrong versioning rule, batch rule or weight shows here whichever
  rows it hits.

  - Which batches count: the ledger's status 'loaded', read from the source itself, not
    through stg_load_batches.
  - Which version is current: a knowable version for which no later knowable version of
    the same claim exists (an anti-join), not a ranking window. Later means a greater
    recorded_at, then load order (batch_id, line_number).
  - Counts per impact level, pending claims, net score (weights from the impact_levels
    seed) and first/last disruption dates, per OCG.

  Fails with one row per OCG whose figures differ, or that is counted in one and missing
  from the other. It reads the sources and the mart directly: when any of them is
  missing the query fails, so the test fails; it cannot pass on nothing.
#}
-- depends_on: {{ ref('impact_levels') }}

with counted_batches as (

    select batch_id
    from {{ source('audit', 'load_batches') }}
    where status = 'loaded'

),

knowable_versions as (

    select
        versions.disruption_id,
        versions.ocg_id,
        versions.disruption_date,
        versions.recorded_at,
        versions.impact,
        versions.status,
        versions.batch_id,
        versions.line_number
    from {{ source('raw', 'disruptions') }} as versions
    inner join counted_batches
        on counted_batches.batch_id = versions.batch_id
    where versions.recorded_at < {{ as_of_cutoff_timestamp() }}
      and versions.disruption_date <= {{ as_of_date() }}

),

current_versions as (

    select knowable_versions.*
    from knowable_versions
    where not exists (
        select 1
        from knowable_versions as later
        where later.disruption_id = knowable_versions.disruption_id
          and (
            later.recorded_at > knowable_versions.recorded_at
            or (later.recorded_at = knowable_versions.recorded_at
                and later.batch_id > knowable_versions.batch_id)
            or (later.recorded_at = knowable_versions.recorded_at
                and later.batch_id = knowable_versions.batch_id
                and later.line_number > knowable_versions.line_number)
          )
    )

),

recount as (

    select
        current_versions.ocg_id,
        {%- for level in impact_levels() %}
        sum(case when current_versions.status = 'approved'
                  and current_versions.impact = '{{ level }}' then 1 else 0 end)
            as {{ level }}_count,
        {%- endfor %}
        sum(case when current_versions.status = 'approved' and levels.is_disruption
                 then 1 else 0 end) as total_disruptions,
        sum(case when current_versions.status = 'approved' then 1 else 0 end) as counted,
        sum(case when current_versions.status = 'claimed' then 1 else 0 end) as pending_claims,
        sum(case when current_versions.status = 'approved' then levels.weight else 0 end)
            as net_disruption_score,
        min(case when current_versions.status = 'approved' and levels.is_disruption
                 then current_versions.disruption_date end) as first_disruption_date,
        max(case when current_versions.status = 'approved' and levels.is_disruption
                 then current_versions.disruption_date end) as last_disruption_date
    from current_versions
    left join {{ ref('impact_levels') }} as levels
        on levels.impact = current_versions.impact
    group by current_versions.ocg_id

),

summary as (

    select * from {{ ref('ocg_disruption_summary') }}

)

{{ summary_recount_differences() }}
