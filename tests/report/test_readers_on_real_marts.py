"""Query, export and report on marts the real pipeline built and published.

Synthetic feeds → ingest → dbt build → publish, then every reader on the result: the
figures the report shows must equal SQL on the file the pipeline published.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from report_helpers import number, parse, sql

from disruptions.serve.export import export_mart
from disruptions.serve.query import run_query
from disruptions.serve.report import write_report

AS_OF = date(2026, 10, 31)


@pytest.fixture(scope="module")
def pipeline_published(tmp_path_factory):
    """One small national run through the real ingest, dbt and publish steps."""
    from disruptions.config import load_settings
    from disruptions.ingest import ingest_landing
    from disruptions.publish.marts import publish_marts
    from disruptions.synth import generate_feeds
    from disruptions.transform.build import build_marts

    with pytest.MonkeyPatch.context() as env:
        for name in ("DISRUPTIONS_SMTP_HOST", "DISRUPTIONS_ALERT_WEBHOOK_URL"):
            env.delenv(name, raising=False)  # no alert leaves the test
        env.setenv("DISRUPTIONS_LANDING_SETTLE_SECONDS", "0")
        settings = load_settings(home=tmp_path_factory.mktemp("real-run") / "home")
        settings.ensure_dirs()
        generate_feeds(settings.landing, ocgs=300, disruptions=4000, seed=11, end_date=AS_OF)
        ingest_landing(settings, run_id="readers-e2e")
        build_marts(settings, "readers-e2e", AS_OF)
        publish_marts(settings, "readers-e2e")
        yield settings


@pytest.mark.slow
def test_report_on_real_marts_matches_sql_on_the_published_file(pipeline_published):
    settings = pipeline_published
    page, data = parse(write_report(settings))
    total, net, disrupted = sql(
        settings,
        "SELECT sum(total_disruptions), sum(net_disruption_score), "
        "count(*) FILTER (WHERE total_disruptions > 0) FROM marts.ocg_disruption_summary",
    )[0]
    assert total > 0
    assert number(page.figures["total_disruptions"]) == total
    assert number(page.figures["net_disruption_score"]) == net
    assert number(page.figures["ocgs_disrupted"]) == disrupted
    assert data["as_of_date"] == AS_OF.isoformat()
    for horizon in ("effect_6m", "effect_12m"):
        expected = dict(
            sql(settings, f"SELECT {horizon}, count(*) FROM marts.ocg_long_term_effect GROUP BY 1")
        )
        assert {k: v for k, v in data["effects"][horizon].items() if v} == expected
    # Every counted disruption in the last 24 months appears in the monthly chart.
    in_window = sql(
        settings,
        "SELECT sum(disruption_count) FROM marts.disruptions_monthly "
        "WHERE is_disruption AND disruption_month >= DATE '2024-11-01'",
    )[0][0]
    assert sum(sum(values) for values in data["monthly"]["total"].values()) == in_window
    assert data["top_ocgs"] and all(row["trajectory"] for row in data["top_ocgs"] if row["rocu"])


@pytest.mark.slow
def test_regional_report_saved_queries_and_exports_on_real_marts(pipeline_published, tmp_path):
    settings = pipeline_published
    page, data = parse(write_report(settings, rocu="EMSOU"))
    emsou_total = sql(
        settings,
        "SELECT coalesce(sum(total_disruptions), 0) FROM marts.ocg_disruption_summary "
        "WHERE rocu = 'EMSOU'",
    )[0][0]
    assert number(page.figures["total_disruptions"]) == emsou_total
    assert {row["rocu"] for row in data["balance"]} == {"EMSOU"}
    for name in ("top_ocgs_by_net_score", "disrupted_not_reassessed_6m"):
        records = json.loads(run_query(settings, name, output_format="json"))
        assert records and "rocu" in records[0]
    run_query(settings, "negative_disruptions_this_quarter")  # may be empty; must run
    marts = [
        row[0]
        for row in sql(
            settings, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'"
        )
    ]
    for mart in marts:
        for output_format in ("csv", "parquet", "xlsx"):
            path = export_mart(
                settings, mart, output_format, out=tmp_path / f"{mart}.{output_format}"
            )
            assert path.stat().st_size > 0
