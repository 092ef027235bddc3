{#
  `rationale` is sensitive free text: it must never leave the raw layer. Fails with one
  row per column named rationale in any schema dbt writes.
#}
select table_schema, table_name, column_name
from information_schema.columns
where lower(column_name) = 'rationale'
  and lower(table_schema) in ('reference', 'staging', 'intermediate', 'snapshots', 'marts')
