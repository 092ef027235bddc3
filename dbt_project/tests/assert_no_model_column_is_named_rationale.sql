{#
  `rationale` is sensitive free text: it must never leave the raw layer. Fails with one
  row per column named rationale in any schema dbt writes.
#}
{{ columns_named('rationale', ['reference', 'staging', 'intermediate', 'snapshots', 'marts']) }}
