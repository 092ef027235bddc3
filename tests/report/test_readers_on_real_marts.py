"""Query, export and report on marts the real pipeline built and published.

Synthetic feeds → ingest → batch validation → dbt build → publish (the national file and
every ROCU's), then every reader on the result: the figures the report shows must equal SQL
on the file the pipeline published, and the readers' hand-made sample must have the shape
of that file.
"""

from __future__ import annotations

import json
import re
from datetime import date

import duckdb
import pytest
from report_helpers import explanations, number, parse, published_sample, sql, top_ocg_links

from disruptions.serve.export import export_mart
from disruptions.serve.query import run_query
from disruptions.serve.report import write_report

AS_OF = date(2026, 10, 31)


@pytest.fixture(scope="module")
def pipeline_published(tmp_path_factory):
    """One small national run through the real steps: ingest, batch validation, dbt build
    and publish."""
    from disruptions.config import load_settings
    from disruptions.ingest import ingest_landing
    from disruptions.publish.marts import publish_marts
    from disruptions.quality.batches import validate_new_batches
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
        validate_new_batches(settings, run_id="readers-e2e")
        build_marts(settings, "readers-e2e", AS_OF)
        publish_marts(settings, "readers-e2e")
        yield settings


def _shape(path) -> set[tuple[str, str, int, str, str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return set(
            con.execute(
                "SELECT table_schema, table_name, ordinal_position, column_name, data_type "
                "FROM information_schema.columns WHERE table_catalog = current_database()"
            ).fetchall()
        )
    finally:
        con.close()


@pytest.mark.slow
def test_report_on_real_marts_matches_sql_on_the_published_file(pipeline_published):
    settings = pipeline_published
    path = write_report(settings)
    page, data = parse(path)
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
    assert data["horizons"] == [6, 12]
    assert (
        data["tolerance"]
        == sql(settings, "SELECT max(tolerance) FROM marts.fct_ocg_effect_evidence")[0][0]
    )
    for horizon in ("effect_6m", "effect_12m"):
        expected = dict(
            sql(settings, f"SELECT {horizon}, count(*) FROM marts.ocg_long_term_effect GROUP BY 1")
        )
        assert {k: v for k, v in data["effects"][horizon].items() if v} == expected
    reduced, with_outcome = sql(
        settings,
        "SELECT count(*) FILTER (WHERE effect_12m IN ('reduced', 'dismantled')), "
        "count(*) FILTER (WHERE effect_12m <> 'too_early') FROM marts.ocg_long_term_effect",
    )[0]
    assert number(page.figures["reduced_or_dismantled"]) == reduced
    assert data["kpis"]["ocgs_with_outcome"] == with_outcome
    # Every counted disruption in the last 24 months appears in the monthly chart.
    in_window = sql(
        settings,
        "SELECT sum(claim_count) FROM marts.disruptions_monthly "
        "WHERE is_disruption AND disruption_month >= DATE '2024-11-01'",
    )[0][0]
    assert sum(sum(values) for values in data["monthly"]["total"].values()) == in_window
    assert data["top_ocgs"] and all(row["trajectory"] for row in data["top_ocgs"] if row["rocu"])
    tactics = dict(
        sql(
            settings,
            "SELECT tactic, ocgs_targeted FROM marts.tactic_effectiveness WHERE ocgs_targeted > 0",
        )
    )
    assert {row["tactic"]: row["ocgs_targeted"] for row in data["tactics"]} == tactics
    assert [(row["force_code"], row["disruptions_12m"]) for row in data["balance"]] == sql(
        settings,
        "SELECT force_code, disruptions_12m FROM marts.rocu_force_balance "
        "ORDER BY rocu, force_code",
    )
    # Each top OCG links to its explanation, whose counted claims recount its figures.
    html = path.read_text(encoding="utf-8")
    explained = explanations(html)
    for ocg, target, _ in top_ocg_links(html):
        named, body = explained[target]
        assert named == ocg
        total_disruptions, none = sql(
            settings,
            "SELECT total_disruptions, none_count FROM marts.ocg_disruption_summary "
            "WHERE ocg_id = ?",
            [ocg],
        )[0]
        counted = re.findall(r'<tr data-outcome="counted">', body)
        assert len(counted) == total_disruptions + none
    dq = data["data_quality"]
    assert dq["model_tests"] and {row["status"] for row in dq["model_tests"]} <= {
        "pass",
        "warn",
    }
    assert dq["load_validations"]


@pytest.mark.slow
def test_regional_report_saved_queries_and_exports_on_real_marts(pipeline_published, tmp_path):
    settings = pipeline_published
    page, data = parse(write_report(settings, rocu="EMSOU"))
    headline = (
        "SELECT coalesce(sum(total_disruptions), 0), coalesce(sum(net_disruption_score), 0) "
        "FROM marts.ocg_disruption_summary"
    )
    emsou_total, emsou_net = sql(settings, headline, rocu="EMSOU")[0]
    assert sql(settings, headline + " WHERE rocu = 'EMSOU'")[0] == (emsou_total, emsou_net)
    assert number(page.figures["total_disruptions"]) == emsou_total
    assert number(page.figures["net_disruption_score"]) == emsou_net
    assert {row["rocu"] for row in data["balance"]} == {"EMSOU"}
    assert {row["rocu"] for row in data["top_ocgs"]} <= {"EMSOU"}
    assert data["data_quality"]["national_only"] is True
    for name in ("top_ocgs_by_net_score", "disrupted_not_reassessed_6m"):
        records = json.loads(run_query(settings, name, output_format="json"))
        assert records and "rocu" in records[0]
        regional = json.loads(run_query(settings, name, output_format="json", rocu="EMSOU"))
        assert {record["rocu"] for record in regional} <= {"EMSOU"}
    run_query(settings, "negative_disruptions_this_quarter")  # may be empty; must run
    run_query(settings, "negative_disruptions_this_quarter", rocu="EMSOU")
    marts = [
        row[0]
        for row in sql(
            settings, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'"
        )
    ]
    assert len(marts) == 8
    for mart in marts:
        for output_format in ("csv", "parquet", "xlsx"):
            path = export_mart(
                settings, mart, output_format, out=tmp_path / f"{mart}.{output_format}"
            )
            assert path.stat().st_size > 0


@pytest.mark.slow
def test_the_readers_sample_has_the_shape_of_a_real_publication(pipeline_published, tmp_path):
    """Every table, column and type of the sample the readers' tests use is the real
    publication's, nationally and in a regional file."""
    settings = pipeline_published
    national = published_sample.build_published_sample(tmp_path / "disruptions.duckdb")
    regions = published_sample.build_regional_files(national, tmp_path / "regions")
    assert _shape(national) == _shape(settings.published_path)
    assert _shape(regions / "EMSOU.duckdb") == _shape(settings.regional_published_path("EMSOU"))
    assert sorted(path.name for path in regions.iterdir()) == sorted(
        path.name for path in settings.regional_published_dir.iterdir()
    )
