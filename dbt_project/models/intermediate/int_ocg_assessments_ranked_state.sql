{#
  What int_ocg_assessments_ranked reflects: the as_of and the counted assessment batches
  of the build that last updated it. Built right after it, read by its next incremental
  run. Only the assessment feed's batches: the model reads nothing else, so a disruption
  batch that stops counting does not make it stale.
#}
-- depends_on: {{ ref('int_ocg_assessments_ranked') }}

select
    batch_id,
    {{ as_of_date() }} as as_of_date
from {{ ref('stg_load_batches') }}
where is_counted_in_marts
  and feed = 'ocg_assessments'
