{#
  THE assessment rule, implemented once: assessments of counted batches with
  assessed_on <= as_of, one row per (ocg_id, assessed_on), the one loaded last winning
  (load order batch_id, line_number). Also each OCG's next assessment date and latest
  flag. int_ocg_assessments (a view) adds the seeds' attributes and the as_of date, so
  that neither an edited seed nor a new as_of leaves stale values in this table.

  Incremental, because it is rebuilt from every assessment ever loaded each night. The
  previous build's as_of and counted assessment batches are kept in
  int_ocg_assessments_ranked_state. When as_of has not moved back and every batch counted
  then still counts, the knowable rows can only have grown; everything in a row here
  (the winner of its date, next_assessed_on, is_latest_for_ocg) depends only on the
  knowable rows of its own OCG, so only OCGs that gained a knowable row are re-ranked
  (delete+insert by ocg_id) and the result equals a full rebuild. Otherwise this model
  refuses to build incrementally (transform.build_marts runs a full refresh instead).
#}
{{
    config(
        materialized=incremental_where_supported(),
        incremental_strategy='delete+insert',
        unique_key='ocg_id',
        on_schema_change='fail'
    )
}}

{%- set state = none %}
{%- if is_incremental() %}
    {%- set state = incremental_build_state(this, 'int_ocg_assessments_ranked_state') %}
{%- endif %}

with counted_batches as (

    select batch_id
    from {{ ref('stg_load_batches') }}
    where is_counted_in_marts

),

{#- Every CTE below reads staging itself rather than sharing one `knowable rows` CTE:
    a CTE read twice is materialised with every column of every row. #}

{%- if state is not none %}

{{ previous_build_ctes(state) }}

gained_a_row as (

    {{ ocgs_that_gained_an_assessment() }}

),

candidate_rows as (

    select assessments.ocg_id, assessments.assessed_on, assessments.batch_id,
        assessments.line_number
    from {{ ref('stg_ocg_assessments') }} as assessments
    inner join counted_batches
        on counted_batches.batch_id = assessments.batch_id
    inner join gained_a_row
        on gained_a_row.ocg_id = assessments.ocg_id
    where assessments.assessed_on <= {{ as_of_date() }}

),

{%- else %}

candidate_rows as (

    select assessments.ocg_id, assessments.assessed_on, assessments.batch_id,
        assessments.line_number
    from {{ ref('stg_ocg_assessments') }} as assessments
    inner join counted_batches
        on counted_batches.batch_id = assessments.batch_id
    where assessments.assessed_on <= {{ as_of_date() }}

),

{%- endif %}

{#- The windows sort only the ranking keys; the winners' other columns are joined back
    by their row's identity (batch_id, line_number). #}
ranked_rows as (

    select
        candidate_rows.*,
        row_number() over (
            partition by ocg_id, assessed_on
            order by batch_id desc, line_number desc
        ) as load_recency
    from candidate_rows

),

winners as (

    select
        ocg_id,
        assessed_on,
        batch_id,
        line_number,
        lead(assessed_on) over (
            partition by ocg_id order by assessed_on
        ) as next_assessed_on
    from ranked_rows
    where load_recency = 1

)

select
    winners.ocg_id,
    winners.assessed_on,
    assessments.threat_score,
    assessments.band,
    assessments.status,
    assessments.archive_reason,
    case
        when assessments.status = 'archived' and assessments.archive_reason = 'dismantled'
            then true
        else false
    end as is_dismantled,
    assessments.lead_force,
    assessments.principal_activity,
    assessments.member_count,
    winners.next_assessed_on,
    -- One row per (ocg_id, assessed_on): the latest is the one with no next assessment.
    case when winners.next_assessed_on is null then true else false end as is_latest_for_ocg,
    winners.batch_id,
    winners.line_number
from winners
inner join {{ ref('stg_ocg_assessments') }} as assessments
    on assessments.batch_id = winners.batch_id
    and assessments.line_number = winners.line_number
