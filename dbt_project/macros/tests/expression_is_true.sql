{#
  Fails with every row for which `expression` is not true (false or NULL). For the
  consistency rules between a model's columns, e.g.
  `total_disruptions = major_count + moderate_count + minor_count + negative_count`.
  Restrict the rows checked with dbt's own test config `where`.
#}
{% test expression_is_true(model, expression) %}
    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)
{% endtest %}
