{#
  THE batch-status rule, implemented once: each file's ledger status and the data
  steward's latest decision on it, and from them whether its rows count in the marts.
  Every model reads which batches count from here, and so does every Python reader
  (status, review, validation, the run summary, the report through the published copy
  audit.batch_status, the load-validation pages).

  Status comes from the ledger: ingest records loaded, duplicate_file or rejected_file;
  batch validation sets held on a critical failure; release sets it back to loaded.
  batch_status adds the decision: a held batch a steward discarded is `discarded`, and a
  loaded batch a steward released is `released`. Only loaded and released batches count.

  A view: the ledger is small, and a release or a discard must take effect at once.
#}
{{ config(materialized='view') }}

with decisions as (

    select
        batch_id,
        decision,
        decided_at,
        decided_by,
        row_number() over (
            partition by batch_id order by decided_at desc, decision
        ) as recency
    from {{ source('audit', 'batch_decisions') }}

)

select
    batches.batch_id,
    batches.feed,
    batches.source_file,
    batches.sha256,
    batches.rows_read,
    batches.rows_loaded,
    batches.rows_quarantined,
    batches.status,
    batches.message,
    batches.started_at,
    batches.finished_at,
    batches.run_id,
    decisions.decision as latest_decision,
    decisions.decided_at,
    decisions.decided_by,
    case
        when batches.status = 'held' and decisions.decision = 'discarded' then 'discarded'
        when batches.status = 'loaded' and decisions.decision = 'released' then 'released'
        else batches.status
    end as batch_status,
    case when batches.status = 'loaded' then true else false end as is_counted_in_marts
from {{ source('audit', 'load_batches') }} as batches
left join decisions
    on decisions.batch_id = batches.batch_id
   and decisions.recency = 1
