"""The HTML report: self-contained, every figure reconciled with SQL on the published file."""

from __future__ import annotations

import re

import duckdb
import pytest
from report_helpers import number, parse, published_sample, sql

from disruptions.errors import UserError
from disruptions.serve.report import write_report


def test_national_report_is_written_to_reports_report_html(published):
    path = write_report(published)
    assert path == published.home / "reports" / "report.html"
    assert path.stat().st_size > 10_000


def test_report_is_self_contained_with_no_external_resource(published):
    html = write_report(published).read_text(encoding="utf-8")
    page, _ = parse(write_report(published))
    assert not [url for url in page.resource_urls if re.match(r"^(https?:)?//", url)]
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert not re.search(r"@import", html)
    # The only script is the inert JSON block: nothing runs, nothing is fetched.
    assert page.scripts == [{"type": "application/json", "id": "report-data"}]
    assert "<link" not in html and "<iframe" not in html
    # Links to the docs are relative to reports/.
    assert "data_docs/index.html" in page.resource_urls
    assert "dbt_docs/index.html" in page.resource_urls


def test_headline_figures_match_sql_on_the_published_file(published):
    page, data = parse(write_report(published))
    expected = sql(
        published,
        """
        SELECT count(*), count(*) FILTER (WHERE total_disruptions > 0), sum(total_disruptions),
               sum(net_disruption_score), sum(negative_count), sum(pending_claims)
        FROM marts.ocg_disruption_summary
        """,
    )[0]
    names = [
        "ocgs",
        "ocgs_disrupted",
        "total_disruptions",
        "net_disruption_score",
        "negative_disruptions",
        "pending_claims",
    ]
    assert [data["kpis"][name] for name in names] == list(expected)
    for name in names[1:]:
        assert number(page.figures[name]) == data["kpis"][name], name
    reduced_or_dismantled, with_outcome = sql(
        published,
        """
        SELECT count(*) FILTER (WHERE effect_12m IN ('reduced', 'dismantled')),
               count(*) FILTER (WHERE effect_12m <> 'too_early')
        FROM marts.ocg_long_term_effect
        """,
    )[0]
    assert number(page.figures["reduced_or_dismantled_12m"]) == reduced_or_dismantled
    assert data["kpis"]["ocgs_with_12m_outcome"] == with_outcome
    assert data["as_of_date"] == "2026-06-30"


def test_rocu_league_table_matches_the_summary_mart(published):
    html = write_report(published).read_text(encoding="utf-8")
    _, data = parse(write_report(published))
    expected = sql(
        published,
        "SELECT rocu, sum(total_disruptions), sum(net_disruption_score) "
        "FROM marts.ocg_disruption_summary GROUP BY rocu ORDER BY rocu",
    )
    assert [
        (row["rocu"], row["total_disruptions"], row["net_disruption_score"])
        for row in data["by_rocu"]
    ] == [tuple(row) for row in expected]
    for rocu, total, _ in expected:
        row = re.search(rf'<tr data-rocu="{rocu}"><th scope="row">{rocu}</th>(.*?)</tr>', html)
        cells = re.findall(r'<td class="n">([^<]*)</td>', row.group(1))
        assert number(cells[1]) == total
    assert data["kpis"]["total_disruptions"] == sum(row[1] for row in expected)


def test_monthly_chart_figures_match_the_disruptions_monthly_mart(published):
    _, data = parse(write_report(published))
    months = data["monthly"]["months"]
    assert len(months) == 24 and months[-1] == "2026-06-01" and months[0] == "2024-07-01"
    expected = dict(
        sql(
            published,
            """
            SELECT impact, sum(disruption_count) FROM marts.disruptions_monthly
            WHERE is_disruption AND disruption_month >= DATE '2024-07-01' GROUP BY impact
            """,
        )
    )
    for impact, values in data["monthly"]["total"].items():
        assert sum(values) == expected.get(impact, 0), impact
    may = dict(
        sql(
            published,
            "SELECT impact, sum(disruption_count) FROM marts.disruptions_monthly "
            "WHERE disruption_month = DATE '2026-05-01' AND is_disruption GROUP BY impact",
        )
    )
    assert {impact: values[-2] for impact, values in data["monthly"]["total"].items()} == {
        impact: may.get(impact, 0) for impact in ("major", "moderate", "minor", "negative")
    }
    per_rocu = dict(
        sql(
            published,
            "SELECT rocu, sum(disruption_count) FROM marts.disruptions_monthly "
            "WHERE is_disruption AND disruption_month >= DATE '2024-07-01' GROUP BY rocu",
        )
    )
    assert {
        rocu: sum(sum(values) for values in series.values())
        for rocu, series in data["monthly"]["panels"].items()
    } == per_rocu
    assert len(per_rocu) == 10


def test_effect_distribution_matches_the_long_term_effect_mart(published):
    page, data = parse(write_report(published))
    for horizon in ("effect_6m", "effect_12m"):
        expected = dict(
            sql(
                published,
                f"SELECT {horizon}, count(*) FROM marts.ocg_long_term_effect GROUP BY ALL",
            )
        )
        shown = {effect: count for effect, count in data["effects"][horizon].items() if count}
        assert shown == expected
        for effect, count in data["effects"][horizon].items():
            assert number(page.effect_cells[f"{horizon}:{effect}"]) == count


def test_score_change_histograms_bin_every_reassessed_ocg_of_the_mart(published):
    con = duckdb.connect(str(published.published_path))
    # Changes of exactly -10% and +10% are reduced and strengthened: outside the lines.
    con.execute(
        "UPDATE marts.ocg_long_term_effect SET pct_change_6m = -0.1, pct_change_12m = 0.1 "
        "WHERE ocg_id IN (SELECT ocg_id FROM marts.ocg_long_term_effect "
        "WHERE pct_change_6m IS NOT NULL AND pct_change_12m IS NOT NULL ORDER BY ocg_id LIMIT 3)"
    )
    con.execute(
        "UPDATE marts.ocg_long_term_effect SET pct_change_6m = 0.0 "
        "WHERE ocg_id = (SELECT max(ocg_id) FROM marts.ocg_long_term_effect "
        "WHERE pct_change_6m IS NOT NULL)"
    )
    con.close()
    _, data = parse(write_report(published))
    change = data["score_change"]
    assert change["edges"][0] == -1.0 and change["edges"][-1] == 1.0
    for horizon in (6, 12):
        counts = change[f"pct_change_{horizon}m"]
        assert len(counts) == 20
        expected = sql(
            published,
            f"SELECT count(*) FILTER (WHERE pct_change_{horizon}m IS NOT NULL), "
            f"count(*) FILTER (WHERE pct_change_{horizon}m <= -0.1), "
            f"count(*) FILTER (WHERE pct_change_{horizon}m >= 0.1) "
            "FROM marts.ocg_long_term_effect",
        )[0]
        assert sum(counts) == expected[0] > 0
        assert sum(counts[:9]) == expected[1]  # bins left of the -10% tolerance line
        assert sum(counts[11:]) == expected[2]  # bins right of +10%


def test_top_ocgs_and_their_trajectories_come_from_the_marts(published):
    _, data = parse(write_report(published))
    expected = sql(
        published,
        """
        SELECT ocg_id, net_disruption_score FROM marts.ocg_disruption_summary
        WHERE total_disruptions > 0
        ORDER BY net_disruption_score DESC, total_disruptions DESC, ocg_id LIMIT 15
        """,
    )
    assert [(row["ocg_id"], row["net_disruption_score"]) for row in data["top_ocgs"]] == [
        tuple(row) for row in expected
    ]
    first = data["top_ocgs"][0]
    history = sql(
        published,
        "SELECT strftime(valid_from, '%Y-%m-%d'), threat_score "
        "FROM marts.dim_ocg_assessment_history WHERE ocg_id = ? ORDER BY valid_from",
        [first["ocg_id"]],
    )
    assert [tuple(point) for point in first["trajectory"]] == history
    assert len(history) >= 2


def test_tactic_balance_and_data_quality_figures_match_the_published_file(published):
    _, data = parse(write_report(published))
    tactics = dict(
        sql(
            published,
            "SELECT tactic, dismantled_12m + reduced_12m FROM marts.tactic_effectiveness "
            "WHERE ocgs_disrupted > 0",
        )
    )
    assert {
        row["tactic"]: row["dismantled_12m"] + row["reduced_12m"] for row in data["tactics"]
    } == (tactics)
    assert "confiscation_order" not in tactics  # a tactic never used is left out
    balance = sql(
        published,
        "SELECT rocu, force_code, force_disruptions FROM marts.rocu_force_balance "
        "ORDER BY rocu, force_code",
    )
    assert [
        (row["rocu"], row["force_code"], row["force_disruptions"]) for row in data["balance"]
    ] == [tuple(row) for row in balance]
    dq = data["data_quality"]
    assert {row["status"]: row["batches"] for row in dq["batches_by_status"]} == dict(
        sql(published, "SELECT status, count(*) FROM audit.load_batches GROUP BY status")
    )
    assert dq["quarantined_rows"] == sql(published, "SELECT count(*) FROM audit.quarantine")[0][0]
    assert [row["batch_id"] for row in dq["held_batches"]] == [6]
    assert dq["held_batch_count"] == 1
    assert dq["held_batches"][0]["decision"] == "discarded"
    assert [row["alert_id"] for row in dq["recent_alerts"]] == [3, 2, 1]
    # Reason counts: a row with two reasons counts under each.
    top_reason = dq["top_reasons"][0]
    assert top_reason["reason"] == "value not allowed: impact = 'huge'"
    assert (
        top_reason["rows"]
        == sql(
            published,
            "SELECT count(*) FROM audit.quarantine WHERE reasons LIKE '%impact = ''huge''%'",
        )[0][0]
    )


def test_report_never_shows_quarantined_records_or_rationale(published):
    html = write_report(published).read_text(encoding="utf-8")
    assert published_sample.LEAKED_RATIONALE not in html
    assert "rationale" not in html.lower()
    assert "D-2-0" not in html  # a quarantined record's own values


def test_text_from_the_data_is_escaped(published):
    con = duckdb.connect(str(published.published_path))
    con.execute(
        "INSERT INTO audit.dq_alerts VALUES (99, TIMESTAMP '2026-06-30 02:00', 'r', 'warning', "
        "'ingest', '<img src=x onerror=alert(1)>', '</script><script>alert(2)</script>', '{}')"
    )
    con.close()
    path = write_report(published)
    html = path.read_text(encoding="utf-8")
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "</script><script>" not in html
    _, data = parse(path)  # the JSON block still parses, with the text intact
    assert data["data_quality"]["recent_alerts"][0]["message"].startswith("</script>")


def test_regional_report_shows_only_that_rocu(published):
    path = write_report(published, rocu="emsou")
    assert path == published.home / "reports" / "report-EMSOU.html"
    page, data = parse(path)
    assert data["scope"] == {"rocu": "EMSOU", "name": "East Midlands Special Operations Unit"}
    expected_total, expected_net = sql(
        published,
        "SELECT sum(total_disruptions), sum(net_disruption_score) "
        "FROM marts.ocg_disruption_summary WHERE rocu = 'EMSOU'",
    )[0]
    assert number(page.figures["total_disruptions"]) == expected_total
    assert number(page.figures["net_disruption_score"]) == expected_net
    assert data["top_ocgs"] and {row["rocu"] for row in data["top_ocgs"]} == {"EMSOU"}
    assert {row["rocu"] for row in data["balance"]} == {"EMSOU"}
    emsou_forces = {"DERBYS", "LEICS", "LINCS", "NORTHANTS", "NOTTS"}
    assert set(data["monthly"]["panels"]) <= emsou_forces
    others = sql(
        published,
        "SELECT ocg_id FROM marts.ocg_disruption_summary WHERE rocu <> 'EMSOU' "
        "AND total_disruptions > 0",
    )
    html = path.read_text(encoding="utf-8")
    assert not [ocg for (ocg,) in others if f">{ocg}<" in html]
    national_total = sql(
        published, "SELECT sum(total_disruptions) FROM marts.ocg_disruption_summary"
    )[0][0]
    assert expected_total < national_total


def test_unknown_rocu_lists_the_valid_codes(published):
    with pytest.raises(UserError, match="unknown ROCU 'NOWHERE'; valid codes: EMSOU, ERSOU"):
        write_report(published, rocu="NOWHERE")


def test_missing_published_file_tells_the_user_to_run_the_pipeline(settings):
    with pytest.raises(UserError, match="run `disruptions run`"):
        write_report(settings)


def test_many_held_batches_show_the_count_and_the_most_recent_ten(published):
    con = duckdb.connect(str(published.published_path))
    for batch_id in range(100, 115):
        con.execute(
            "INSERT INTO audit.load_batches VALUES (?, 'ocg_assessments', ?, 'x', 10, 10, 0, "
            "'held', ?, TIMESTAMP '2026-06-30 03:00', TIMESTAMP '2026-06-30 03:01', 'r')",
            [batch_id, f"unit/file_{batch_id}.csv", "held: " + "very long reason " * 40],
        )
    con.close()
    path = write_report(published)
    page, data = parse(path)
    expected = sql(published, "SELECT count(*) FROM audit.load_batches WHERE status = 'held'")
    assert number(page.figures["held_batch_count"]) == expected[0][0] == 16
    held = data["data_quality"]["held_batches"]
    assert [row["batch_id"] for row in held] == list(range(114, 104, -1))
    html = path.read_text(encoding="utf-8")
    assert html.count("data-held-batch=") == 10
    clipped = re.findall(r">(held: very long reason[^<]*…)</td>", html)
    assert len(clipped) == 10 and all(len(text) == 220 for text in clipped)


def test_cli_writes_the_report_and_refuses_an_unknown_rocu_in_one_line(published, capsys):
    from disruptions.cli import main

    assert main(["report", "--rocu", "tarian"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {published.home}/reports/report-TARIAN.html"
    assert main(["report", "--rocu", "MARS"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("disruptions report: error: unknown ROCU 'MARS'; valid codes: EMSOU")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_an_empty_publication_still_gives_a_report_of_zeros(published):
    con = duckdb.connect(str(published.published_path))
    for (table,) in con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
        "WHERE schema_name IN ('marts', 'audit')"
    ).fetchall():
        con.execute(f"DELETE FROM {table}")
    con.close()
    page, data = parse(write_report(published))
    assert number(page.figures["total_disruptions"]) == 0
    assert data["as_of_date"] is None and data["top_ocgs"] == []
    assert write_report(published, rocu="EMSOU").name == "report-EMSOU.html"


def test_report_file_is_readable_as_the_umask_allows_not_owner_only(published):
    import os
    import stat

    old = os.umask(0o022)
    try:
        national = write_report(published)
        os.umask(0o027)
        regional = write_report(published, rocu="EMSOU")
    finally:
        os.umask(old)
    assert stat.S_IMODE(national.stat().st_mode) == 0o644
    assert stat.S_IMODE(regional.stat().st_mode) == 0o640
    assert not list(national.parent.glob(".report*"))  # no temporary file left behind


def test_header_names_the_last_run_and_only_a_failed_step_as_bad_news(published):
    con = duckdb.connect(str(published.published_path))
    # The copy is taken mid-publish: the run's publish step is still "running".
    con.execute(
        "INSERT INTO audit.pipeline_runs VALUES "
        "('run-b', DATE '2026-06-30', 'ingest', 'success', TIMESTAMP '2026-07-01 02:00', "
        "TIMESTAMP '2026-07-01 02:01', NULL), "
        "('run-b', DATE '2026-06-30', 'publish', 'running', TIMESTAMP '2026-07-01 02:05', "
        "NULL, NULL)"
    )
    con.close()
    html = write_report(published).read_text(encoding="utf-8")
    assert "Pipeline run <strong>run-b</strong>, started 2026-07-01 02:00" in html
    assert "failed: " not in html.split("</header>")[0]
    con = duckdb.connect(str(published.published_path))
    con.execute(
        "INSERT INTO audit.pipeline_runs VALUES ('run-c', DATE '2026-07-01', 'dbt_build', "
        "'failed', TIMESTAMP '2026-07-02 02:00', TIMESTAMP '2026-07-02 02:03', 'boom')"
    )
    con.close()
    header = write_report(published).read_text(encoding="utf-8").split("</header>")[0]
    assert "failed: dbt_build" in header
