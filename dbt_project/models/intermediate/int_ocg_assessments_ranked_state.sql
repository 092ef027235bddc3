{#
  What int_ocg_assessments_ranked reflects: the as_of and the counted assessment batches
  of the build that last updated it. Built right after it, read by its next incremental
  run. Only the assessment feed's batches: the model reads nothing else, so a disruption
  batch that stops counting does not make it stale.
#}
-- depends_on: {{ ref('int_ocg_assessments_ranked') }}

{{ counted_batches_state('ocg_assessments') }}
