{#
  Every OCG assessment row ingest has loaded. A view over raw, for the same reasons as
  stg_disruptions: rows of every batch whatever its status, typed and validated by ingest.
#}
{{ config(materialized='view') }}

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
