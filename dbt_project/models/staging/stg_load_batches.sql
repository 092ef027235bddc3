{#
  The load ledger, reduced to what the models need: which batches count. A view, because
  the ledger is small and a release or discard must take effect on the next build.
#}
{{ config(materialized='view') }}

select
    batch_id,
    feed,
    source_file,
    status,
    case when status = 'loaded' then true else false end as is_counted_in_marts
from {{ source('audit', 'load_batches') }}
