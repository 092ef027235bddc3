{#
  Every OCG assessment row ingest has loaded. Incremental by batch, for the same reasons
  as stg_disruptions: batches not yet copied are appended whatever their status.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail'
    )
}}

with source_rows as (

    select
        ocg_id,
        assessed_on,
        threat_score,
        band,
        status,
        archive_reason,
        lead_force,
        principal_activity,
        member_count,
        batch_id,
        line_number,
        loaded_at
    from {{ source('raw', 'ocg_assessments') }}

)

select * from source_rows
{% if is_incremental() %}
where batch_id not in (select distinct copied.batch_id from {{ this }} as copied)
{% endif %}
