{#
  The run's point in time. `as_of` is the run's logical date (YYYY-MM-DD), passed by
  transform.build_marts; a hand-run `dbt build` without it uses today's UTC date.
#}
{% macro as_of_string() -%}
    {%- set value = var('as_of', none) -%}
    {%- if value is none or (value | string | trim) == '' -%}
        {%- set value = modules.datetime.datetime.utcnow().strftime('%Y-%m-%d') -%}
    {%- endif -%}
    {%- set value = value | string | trim -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
        {{ exceptions.raise_compiler_error("var as_of must be YYYY-MM-DD, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{- value -}}
{%- endmacro %}

{# The as_of date as a SQL DATE literal. #}
{% macro as_of_date() -%}
    cast('{{ as_of_string() }}' as date)
{%- endmacro %}

{# The first instant after the as_of day: versions recorded before it are knowable. #}
{% macro as_of_cutoff_timestamp() -%}
    cast({{ dbt.dateadd('day', 1, as_of_date()) }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{# The effect tolerance as a 64-bit float, so that exact ratios like -3/30 equal it. #}
{% macro effect_tolerance() -%}
    cast({{ var('effect_tolerance') }} as {{ type_double() }})
{%- endmacro %}

{#
  The order of a claim's versions (SPEC section 4): by recorded_at, then load order
  (batch_id, line_number). The versioning rule (int_disruption_current_versions) and the
  claims fact (fct_disruption_claims) both order by it. `direction` is asc or desc.
#}
{% macro claim_version_order(alias, direction='asc') -%}
    {{ alias }}.recorded_at {{ direction }}, {{ alias }}.batch_id {{ direction }},
    {{ alias }}.line_number {{ direction }}
{%- endmacro %}
