{#
  The run's point in time, as a SQL DATE expression.

  The nightly build reads it from audit.run_context, the one-row table transform.build
  writes before it runs dbt. It is not a dbt var because dbt parses the whole project
  again whenever a var changes, and as_of changes every night; read at run time, it
  leaves the parse to be reused. The table is named directly rather than through
  source(), so that it is not an input of every model: unit tests, and a hand-run
  `dbt build --vars '{"as_of": "YYYY-MM-DD"}'`, set the date with the var instead.
#}
{% macro as_of_date() -%}
    {%- set value = var('as_of', none) -%}
    {%- if value is none or (value | string | trim) == '' -%}
        (select max(as_of) from {{ run_context_relation() }})
    {%- else -%}
        {%- set value = value | string | trim -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
            {{ exceptions.raise_compiler_error("var as_of must be YYYY-MM-DD, got '" ~ value ~ "'") }}
        {%- endif -%}
        cast('{{ value }}' as date)
    {%- endif -%}
{%- endmacro %}

{# audit.run_context (declared and tested as a source in staging/__sources.yml); in the
   ledger schema on PostgreSQL. #}
{% macro run_context_relation() -%}
    {#- Spark's catalogue has no database level above the schema. -#}
    {%- set database = none if target.type == 'spark' else target.database -%}
    {{ api.Relation.create(database=database, schema=ledger_schema(), identifier='run_context') }}
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

{# The last day of an effect window observed so far: its horizon date once as_of has
   reached it, as_of until then (int_effect_at_anchor, and its rows kept incrementally). #}
{% macro observed_until(horizon_date) -%}
    case
        when {{ horizon_date }} <= {{ as_of_date() }} then {{ horizon_date }}
        else {{ as_of_date() }}
    end
{%- endmacro %}

{# The effect horizons as text ("6,12"), as int_effect_at_anchor_state keeps them. #}
{% macro effect_horizons_text() -%}
    cast('{{ var("effect_horizons_months") | join(",") }}' as {{ var('type_string') }})
{%- endmacro %}

{# The point-in-time rule for a disruption version (alias `alias`): recorded before the
   day after as_of, and dated on or before as_of. #}
{% macro knowable_version(alias) -%}
    {{ alias }}.recorded_at < {{ as_of_cutoff_timestamp() }}
    and {{ alias }}.disruption_date <= {{ as_of_date() }}
{%- endmacro %}
