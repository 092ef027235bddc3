{#
  What int_disruption_current_versions reflects: the as_of and the counted disruption
  batches of the build that last updated it. Built right after it, read by its next
  incremental run. Only the disruption feed's batches: the model reads nothing else, so
  an assessment batch that stops counting does not make it stale.
#}
-- depends_on: {{ ref('int_disruption_current_versions') }}

{{ counted_batches_state('disruptions') }}
