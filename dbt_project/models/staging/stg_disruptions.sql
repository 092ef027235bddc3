{#
  Every disruption version ingest has loaded, minus `rationale`, which never leaves raw.

  Incremental by batch: each run appends the rows of batches not yet copied. Not
  `batch_id > max(batch_id)`: a held batch released later has a lower id than batches
  copied since. Rows of every batch are copied whatever its status, because which
  batches count is decided downstream against audit.load_batches; so a release or a hold
  never needs this table rebuilt, and nothing here depends on as_of.
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
        disruption_id,
        ocg_id,
        disruption_date,
        recorded_at,
        impact,
        strand,
        tactic,
        lead_agency,
        force_area,
        status,
        operation,
        batch_id,
        line_number,
        loaded_at
    from {{ source('raw', 'disruptions') }}

)

select * from source_rows
{% if is_incremental() %}
where batch_id not in (select distinct copied.batch_id from {{ this }} as copied)
{% endif %}
