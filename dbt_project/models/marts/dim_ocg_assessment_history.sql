{#
  SCD2 history of OCG assessments as knowable at as_of. Derived from the assessments'
  own effective dates rather than a dbt snapshot: see the YAML description for why.

  Incremental, because it holds every assessment ever loaded and was written whole every
  night. An OCG's rows are its rows of int_ocg_assessments_ranked, which can only change
  for the OCGs that gained a knowable assessment (that model's own argument), plus two
  attributes from the seeds: band_rank (ocg_bands) and rocu (forces). So a build rebuilds
  (delete+insert by ocg_id) the OCGs that gained an assessment since the build that
  int_ocg_assessment_history_state describes, and the OCGs whose rows carry a seed value
  that is not the seed's now (an edited seed); the other rows only get the new
  as_of_date (the post-hook), which equals a full rebuild. A build whose as_of moved
  back, or after an assessment batch stopped counting, refuses to run incrementally
  (transform.build_marts runs a full refresh instead).
#}
{#- on_schema_change is not 'fail', as in fct_disruption_claims: on PostgreSQL the
    contract's varchar columns differ from each run's text ones. The contract still
    fails the build on any real change of columns. #}
{{
    config(
        materialized=incremental_where_supported(),
        incremental_strategy='delete+insert',
        unique_key='ocg_id',
        on_schema_change='append_new_columns',
        post_hook="{{ refresh_as_of_date_of_kept_rows() }}"
    )
}}

-- The incremental run's inputs, which dbt cannot see inside the branch below:
-- depends_on: {{ ref('stg_load_batches') }}
-- depends_on: {{ ref('stg_ocg_assessments') }}
-- depends_on: {{ ref('forces') }}
-- depends_on: {{ ref('ocg_bands') }}

{%- set state = none %}
{%- if is_incremental() %}
    {%- set state = incremental_build_state(this, 'int_ocg_assessment_history_state') %}
{%- endif %}

{%- if state is not none %}

with counted_batches as (

    select batch_id
    from {{ ref('stg_load_batches') }}
    where is_counted_in_marts

),

{{ previous_build_ctes(state) }}

rebuilt_ocgs as (

    {{ ocgs_that_gained_an_assessment() }}
    union
    select kept.ocg_id
    from {{ this }} as kept
    left join {{ ref('forces') }} as forces
        on forces.force_code = kept.lead_force
    left join {{ ref('ocg_bands') }} as ocg_bands
        on ocg_bands.band = kept.band
    where not (kept.rocu = forces.rocu_code
               or (kept.rocu is null and forces.rocu_code is null))
       or not (kept.band_rank = ocg_bands.rank
               or (kept.band_rank is null and ocg_bands.rank is null))

)

{%- endif %}

select
    assessments.ocg_id,
    assessments.assessed_on as valid_from,
    assessments.next_assessed_on as valid_to,
    assessments.is_latest_for_ocg as is_current,
    assessments.threat_score,
    assessments.band,
    assessments.band_rank,
    assessments.status,
    assessments.archive_reason,
    assessments.lead_force,
    assessments.lead_force_rocu as rocu,
    assessments.principal_activity,
    assessments.member_count,
    {{ as_of_date() }} as as_of_date
from {{ ref('int_ocg_assessments') }} as assessments
{%- if state is not none %}
where assessments.ocg_id in (select rebuilt_ocgs.ocg_id from rebuilt_ocgs)
{%- endif %}
