{#
  What fct_disruption_claims reflects: the as_of and every disruption batch whose rows
  were in the warehouse (loaded or held), with its standing, at the build that last
  updated it. Built right after it, read by its next incremental run, which rebuilds the
  disruptions of any batch whose standing differs from this.
#}
-- depends_on: {{ ref('fct_disruption_claims') }}

select
    batch_id,
    batch_status,
    is_counted_in_marts,
    {{ as_of_date() }} as as_of_date
from {{ ref('stg_load_batches') }}
where status in ('loaded', 'held')
  and feed = 'disruptions'
