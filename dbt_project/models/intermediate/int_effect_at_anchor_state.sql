{#
  What int_effect_at_anchor reflects: the as_of, the counted assessment batches and the
  effect settings of the build that last updated it. Built right after it, read by its
  next incremental run.
#}
-- depends_on: {{ ref('int_effect_at_anchor') }}

select
    batch_id,
    {{ as_of_date() }} as as_of_date,
    {{ effect_tolerance() }} as effect_tolerance,
    {{ effect_horizons_text() }} as effect_horizons
from {{ ref('stg_load_batches') }}
where is_counted_in_marts
  and feed = 'ocg_assessments'
