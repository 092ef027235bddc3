{#
  What dim_ocg_assessment_history reflects: the as_of and the counted assessment batches
  of the build that last updated it. Built right after it, read by its next incremental
  run. Its own state, not int_ocg_assessments_ranked_state: that one is rebuilt right
  after int_ocg_assessments_ranked, which may be before this mart reads it.
#}
-- depends_on: {{ ref('dim_ocg_assessment_history') }}

{{ counted_batches_state('ocg_assessments') }}
