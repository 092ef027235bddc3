"""The HTML report: self-contained, every figure reconciled with SQL on the published file it
reads (the national one, or a ROCU's regional file), every OCG it ranks explained."""

from __future__ import annotations

import re

import pytest
from report_helpers import (
    change,
    explanations,
    number,
    parse,
    published_sample,
    sql,
    top_ocg_links,
)

from disruptions.errors import UserError
from disruptions.serve.report import write_report

REGIONS = "EMSOU, ERSOU, LDNROCU, NEROCU, NWROCU, SEROCU, SWROCU, TARIAN, WMROCU, YHROCU"


def test_national_report_is_written_to_reports_report_html(published):
    path = write_report(published)
    assert path == published.home / "reports" / "report.html"
    assert path.stat().st_size > 10_000
    assert not published.warehouse_path.exists()  # published files only


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
    # Every link within the page (the sections, each top OCG's explanation) lands on an
    # element of the page, and no two elements share an id.
    internal = [url[1:] for url in page.resource_urls if url.startswith("#")]
    assert len(internal) > 15
    assert set(internal) <= set(page.ids)
    assert len(page.ids) == len(set(page.ids))


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
    assert reduced_or_dismantled > 0 and with_outcome > reduced_or_dismantled
    assert number(page.figures["reduced_or_dismantled"]) == reduced_or_dismantled
    assert data["kpis"]["reduced_or_dismantled"] == reduced_or_dismantled
    assert data["kpis"]["ocgs_with_outcome"] == with_outcome
    assert data["kpis"]["last_horizon"] == 12
    assert data["as_of_date"] == "2026-06-30"


def test_rocu_league_table_matches_the_summary_and_effect_marts(published):
    html = write_report(published).read_text(encoding="utf-8")
    _, data = parse(write_report(published))
    expected = sql(
        published,
        """
        SELECT s.rocu, sum(s.total_disruptions), sum(s.net_disruption_score),
               count(e.ocg_id) FILTER (WHERE e.effect_12m IN ('reduced', 'dismantled')),
               count(e.ocg_id) FILTER (WHERE e.effect_12m <> 'too_early')
        FROM marts.ocg_disruption_summary s LEFT JOIN marts.ocg_long_term_effect e USING (ocg_id)
        GROUP BY s.rocu ORDER BY s.rocu NULLS LAST
        """,
    )
    assert [
        (
            row["rocu"],
            row["total_disruptions"],
            row["net_disruption_score"],
            row["reduced_or_dismantled"],
            row["ocgs_with_outcome"],
        )
        for row in data["by_rocu"]
    ] == [tuple(row) for row in expected]
    # The OCG never assessed has no lead force, so no ROCU: it has a row of its own, last.
    assert expected[-1][0] is None and len(expected) == 11
    for rocu, total, _, reduced, with_outcome in expected:
        row = re.search(
            rf'<tr data-rocu="{rocu or "none"}"><th scope="row">{rocu or "No ROCU"}</th>(.*?)</tr>',
            html,
        )
        cells = [number(cell) for cell in re.findall(r'<td class="n">([^<]*)</td>', row.group(1))]
        assert (cells[1], cells[4], cells[5]) == (total, reduced, with_outcome)
    assert data["kpis"]["total_disruptions"] == sum(row[1] for row in expected)


def test_monthly_chart_figures_match_the_disruptions_monthly_mart(published):
    _, data = parse(write_report(published))
    months = data["monthly"]["months"]
    assert len(months) == 24 and months[-1] == "2026-06-01" and months[0] == "2024-07-01"
    expected = dict(
        sql(
            published,
            """
            SELECT impact, sum(claim_count) FROM marts.disruptions_monthly
            WHERE is_disruption AND disruption_month >= DATE '2024-07-01' GROUP BY impact
            """,
        )
    )
    for impact, values in data["monthly"]["total"].items():
        assert sum(values) == expected.get(impact, 0), impact
    assert set(data["monthly"]["total"]) == {"major", "moderate", "minor", "negative"}
    may = dict(
        sql(
            published,
            "SELECT impact, sum(claim_count) FROM marts.disruptions_monthly "
            "WHERE disruption_month = DATE '2026-05-01' AND is_disruption GROUP BY impact",
        )
    )
    assert {impact: values[-2] for impact, values in data["monthly"]["total"].items()} == {
        impact: may.get(impact, 0) for impact in ("major", "moderate", "minor", "negative")
    }
    per_rocu = dict(
        sql(
            published,
            "SELECT rocu, sum(claim_count) FROM marts.disruptions_monthly "
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
    assert data["horizons"] == [6, 12]  # from the mart's effect_<h>m columns
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
    # Changes of exactly -10% and +10% are reduced and strengthened: outside the lines.
    change(
        published.published_path,
        "UPDATE marts.ocg_long_term_effect SET pct_change_6m = -0.1, pct_change_12m = 0.1 "
        "WHERE ocg_id IN (SELECT ocg_id FROM marts.ocg_long_term_effect "
        "WHERE pct_change_6m IS NOT NULL AND pct_change_12m IS NOT NULL ORDER BY ocg_id LIMIT 3)",
        "UPDATE marts.ocg_long_term_effect SET pct_change_6m = 0.0 "
        "WHERE ocg_id = (SELECT max(ocg_id) FROM marts.ocg_long_term_effect "
        "WHERE pct_change_6m IS NOT NULL)",
    )
    _, data = parse(write_report(published))
    score_change = data["score_change"]
    assert score_change["edges"][0] == -1.0 and score_change["edges"][-1] == 1.0
    for horizon in (6, 12):
        counts = score_change[f"pct_change_{horizon}m"]
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


def test_the_tolerance_shown_is_the_effect_evidence_marts(published):
    html = write_report(published).read_text(encoding="utf-8")
    assert "A change of 10% or more either way" in html and "±10% tolerance" in html
    change(published.published_path, "UPDATE marts.fct_ocg_effect_evidence SET tolerance = 0.15")
    path = write_report(published)
    html = path.read_text(encoding="utf-8")
    assert parse(path)[1]["tolerance"] == 0.15
    assert "A change of 15% or more either way" in html and "±15% tolerance" in html
    assert "±10%" not in html


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
    assert [row["anchor"] for row in data["top_ocgs"]] == [f"explain-{n}" for n in range(1, 16)]
    assert "explanation" not in data["top_ocgs"][0]  # on the page, not in the data block
    first = data["top_ocgs"][0]
    history = sql(
        published,
        "SELECT strftime(valid_from, '%Y-%m-%d'), threat_score "
        "FROM marts.dim_ocg_assessment_history WHERE ocg_id = ? ORDER BY valid_from",
        [first["ocg_id"]],
    )
    assert [tuple(point) for point in first["trajectory"]] == history
    assert len(history) >= 2


def test_each_top_ocg_links_to_its_explanation_whose_claims_recount_its_figures(published):
    path = write_report(published)
    html = path.read_text(encoding="utf-8")
    _, data = parse(path)
    links = top_ocg_links(html)
    assert [ocg for ocg, _, _ in links] == [row["ocg_id"] for row in data["top_ocgs"]]
    assert len(links) == 15
    explained = explanations(html)
    assert len(explained) == 15
    for ocg, target, text in links:
        assert text == ocg
        named, body = explained[target]  # the link lands on an explanation ...
        assert named == ocg and f"<summary>{ocg}: " in body  # ... of that OCG
        total, none, pending, net = sql(
            published,
            "SELECT total_disruptions, none_count, pending_claims, net_disruption_score "
            "FROM marts.ocg_disruption_summary WHERE ocg_id = ?",
            [ocg],
        )[0]
        outcomes = re.findall(r'<tr data-outcome="([^"]*)">', body)
        # Its counted claims recount its disruptions (and the claims of no effect) ...
        assert outcomes.count("counted") == total + none > 0
        assert outcomes.count("pending") == pending
        assert f"Net disruption score {net} = " in body
        # ... and every version of every claim against it is listed, with its outcome.
        versions = sql(
            published,
            "SELECT disruption_id, outcome FROM marts.fct_disruption_claims WHERE ocg_id = ?",
            [ocg],
        )
        listed = re.findall(r'<tr data-outcome="([^"]*)"><td>([^<]*)</td>', body)
        assert sorted((claim, outcome) for outcome, claim in listed) == sorted(versions)
        # The rule that decided each horizon's effect.
        for months, rule, effect in sql(
            published,
            "SELECT horizon_months, effect_rule, effect FROM marts.fct_ocg_effect_evidence "
            "WHERE ocg_id = ?",
            [ocg],
        ):
            assert f"<td>{months} months (to " in body
            assert f"rule {rule}: " in body, (ocg, months, effect)
    # Claims that never counted are shown for what they are.
    every_outcome = {
        outcome
        for _, (_, body) in explained.items()
        for outcome in re.findall(r'data-outcome="([^"]*)"', body)
    }
    assert {"counted", "superseded", "discarded_batch"} <= every_outcome


def test_tactic_and_balance_figures_match_the_published_file(published):
    path = write_report(published)
    html = path.read_text(encoding="utf-8")
    _, data = parse(path)
    tactics = {
        tactic: row
        for tactic, *row in sql(
            published,
            "SELECT tactic, ocgs_targeted, ocgs_measured_12m, dismantled_12m + reduced_12m, "
            "too_early_12m FROM marts.tactic_effectiveness WHERE ocgs_targeted > 0",
        )
    }
    assert {
        row["tactic"]: [
            row["ocgs_targeted"],
            row["ocgs_measured_12m"],
            row["reduced_or_dismantled"],
            row["too_early_12m"],
        ]
        for row in data["tactics"]
    } == tactics
    assert len(tactics) == 6 and "confiscation_order" not in tactics  # never used: left out
    # The tactics that most often reduced their OCGs first.
    shares = [row["reduced_or_dismantled"] / row["ocgs_measured_12m"] for row in data["tactics"]]
    assert shares == sorted(shares, reverse=True)
    for tactic, (targeted, measured, _, _) in tactics.items():
        row = re.search(rf'<tr data-tactic="{tactic}">(.*?)</tr>', html).group(1)
        cells = re.findall(r'<td class="n">([^<]*)</td>', row)
        assert (number(cells[0]), number(cells[1])) == (targeted, measured)
    columns = (
        "rocu, force_code, disruptions_12m, disruption_share, active_ocgs, active_ocg_share, "
        "high_threat_ocgs, high_threat_share, effort_gap"
    )
    balance = sql(
        published, f"SELECT {columns} FROM marts.rocu_force_balance ORDER BY rocu, force_code"
    )
    assert [tuple(row[name] for name in columns.split(", ")) for row in data["balance"]] == [
        tuple(row) for row in balance
    ]
    assert len(balance) == 44
    for rocu, force, disruptions, _, active, _, high, _, _ in balance:
        row = re.search(rf'<tr data-force="{force}"><td>{rocu}</td>(.*?)</tr>', html).group(1)
        cells = re.findall(r'<td class="n">([^<]*)</td>', row)
        assert (number(cells[0]), number(cells[2]), number(cells[4])) == (
            disruptions,
            active,
            high,
        )


def test_data_quality_figures_match_the_published_audit_tables(published):
    _, data = parse(write_report(published))
    dq = data["data_quality"]
    assert dq["national_only"] is False
    assert {row["status"]: row["batches"] for row in dq["batches_by_status"]} == dict(
        sql(published, "SELECT status, count(*) FROM audit.load_batches GROUP BY status")
    )
    assert (
        dq["quarantined_rows"]
        == sql(published, "SELECT sum(rows_quarantined) FROM audit.load_batches")[0][0]
        == sql(published, "SELECT count(*) FROM audit.quarantine")[0][0]
    )
    # The held list is the batch-status model's: batch 6 was held, then discarded.
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


def test_data_quality_shows_the_load_validations_and_the_last_builds_dbt_tests(published):
    path = write_report(published)
    html = path.read_text(encoding="utf-8")
    dq = parse(path)[1]["data_quality"]
    validations = dict(
        sql(
            published,
            "SELECT CASE WHEN critical_failures > 0 THEN 'held' WHEN warning_failures > 0 "
            "THEN 'passed with warnings' ELSE 'passed' END, count(*) "
            "FROM audit.batch_validations GROUP BY 1",
        )
    )
    assert validations == {"passed": 2, "passed with warnings": 1, "held": 1}
    assert {row["result"]: row["batches"] for row in dq["load_validations"]} == validations
    for result, batches in validations.items():
        assert (
            f'<tr data-load-validation="{result}"><th scope="row">{result}</th>'
            f'<td class="n">{batches}</td></tr>'
        ) in html
    # The tests of the last build only: the run before failed a test since fixed.
    last_build = dict(
        sql(
            published,
            "SELECT status, count(*) FROM audit.dbt_test_results "
            f"WHERE run_id = '{published_sample.RUN_ID}' GROUP BY status",
        )
    )
    assert last_build == {"pass": 11, "warn": 1}
    assert {row["status"]: row["tests"] for row in dq["model_tests"]} == last_build
    for status, tests in last_build.items():
        assert (
            f'<tr data-model-tests="{status}"><th scope="row">{status}</th>'
            f'<td class="n">{tests}</td></tr>'
        ) in html
    assert [row["test_name"] for row in dq["model_tests_not_passing"]] == [
        published_sample.WARNED_TEST
    ]
    warned = re.search(
        rf'<tr data-model-test="{published_sample.WARNED_TEST}">(.*?)</tr>', html
    ).group(1)
    assert "fct_disruption_claims" in warned and '<span class="tag warning">warn</span>' in warned
    assert published_sample.EARLIER_FAILED_TEST not in html
    # A newer build that fails a test replaces it.
    change(
        published.published_path,
        "INSERT INTO audit.dbt_test_results VALUES "
        "('run-next', DATE '2026-07-01', 'assert_marts_reconcile', 'singular', NULL, NULL, "
        "'error', 'fail', 4, 'Got 4 results', TIMESTAMP '2026-07-01 01:10'), "
        "('run-next', DATE '2026-07-01', 'not_null_x_y', 'not_null', 'x', 'y', "
        "'error', 'pass', 0, NULL, TIMESTAMP '2026-07-01 01:10')",
    )
    path = write_report(published)
    dq = parse(path)[1]["data_quality"]
    assert {row["status"]: row["tests"] for row in dq["model_tests"]} == {"fail": 1, "pass": 1}
    assert [(row["test_name"], row["failures"]) for row in dq["model_tests_not_passing"]] == [
        ("assert_marts_reconcile", 4)
    ]
    failed = re.search(
        r'<tr data-model-test="assert_marts_reconcile">(.*?)</tr>', path.read_text(encoding="utf-8")
    ).group(1)
    assert '<span class="tag critical">error</span>' in failed and ">4</td>" in failed


def test_names_labels_and_colours_come_from_the_published_reference_tables(published):
    html = write_report(published).read_text(encoding="utf-8")
    assert "#004C7F" in html and ">Reduced<" in html
    change(
        published.published_path,
        "UPDATE reference.impact_levels SET label = 'Huge', colour = '#123456' "
        "WHERE impact = 'major'",
        "UPDATE reference.effect_categories SET label = 'Shrunk', colour = '#654321' "
        "WHERE effect = 'reduced'",
    )
    html = write_report(published).read_text(encoding="utf-8")
    assert "#004C7F" not in html and "#123456" in html and ">Huge<" in html
    assert ">Reduced<" not in html and ">Shrunk<" in html and "#654321" in html


def test_report_never_shows_quarantined_records_or_rationale(published):
    html = write_report(published).read_text(encoding="utf-8")
    assert published_sample.LEAKED_RATIONALE not in html
    assert "rationale" not in html.lower()
    assert "D-2-0" not in html  # a quarantined record's own values


def test_text_from_the_data_is_escaped(published):
    top = sql(
        published,
        "SELECT ocg_id FROM marts.ocg_disruption_summary WHERE total_disruptions > 0 "
        "ORDER BY net_disruption_score DESC, total_disruptions DESC, ocg_id LIMIT 1",
    )[0][0]
    change(
        published.published_path,
        "INSERT INTO audit.dq_alerts VALUES (99, TIMESTAMP '2026-06-30 02:00', 'r', 'warning', "
        "'ingest', '<img src=x onerror=alert(1)>', '</script><script>alert(2)</script>', '{}')",
        # A landing file's name is the sender's choice, and the explanation shows it.
        "UPDATE marts.fct_disruption_claims SET source_file = '<img src=x onerror=alert(3)>.csv' "
        f"WHERE ocg_id = '{top}'",
        "INSERT INTO audit.dbt_test_results VALUES ('run-next', DATE '2026-07-01', "
        "'<script>alert(4)</script>', 'singular', '\"><b>model', NULL, 'error', 'fail', 1, "
        "NULL, TIMESTAMP '2026-07-01 01:10')",
        "UPDATE audit.batch_status SET source_file = '<b onmouseover=alert(5)>.csv' "
        "WHERE batch_id = 6",
    )
    path = write_report(published)
    html = path.read_text(encoding="utf-8")
    assert "<img src=x" not in html and "<b onmouseover" not in html and '"><b>' not in html
    assert "<script>alert" not in html and "</script><script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;img src=x onerror=alert(3)&gt;.csv:" in html
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in html
    assert "&lt;b onmouseover=alert(5)&gt;.csv" in html
    _, data = parse(path)  # the JSON block still parses, with the text intact
    dq = data["data_quality"]
    assert dq["recent_alerts"][0]["message"].startswith("</script>")
    assert dq["model_tests_not_passing"][0]["test_name"] == "<script>alert(4)</script>"


def test_regional_report_reads_the_rocus_file_and_shows_only_that_rocu(published):
    path = write_report(published, rocu="emsou")
    assert path == published.home / "reports" / "report-EMSOU.html"
    page, data = parse(path)
    assert data["scope"] == {"rocu": "EMSOU", "name": "East Midlands Special Operations Unit"}
    headline = (
        "SELECT count(*) FILTER (WHERE total_disruptions > 0), sum(total_disruptions), "
        "sum(net_disruption_score), sum(pending_claims) FROM marts.ocg_disruption_summary"
    )
    expected = sql(published, headline, rocu="EMSOU")[0]
    assert sql(published, headline + " WHERE rocu = 'EMSOU'")[0] == expected
    disrupted, total, net, pending = expected
    assert number(page.figures["ocgs_disrupted"]) == disrupted
    assert number(page.figures["total_disruptions"]) == total
    assert number(page.figures["net_disruption_score"]) == net
    assert number(page.figures["pending_claims"]) == pending
    assert (
        total
        < sql(published, "SELECT sum(total_disruptions) FROM marts.ocg_disruption_summary")[0][0]
    )
    assert data["by_rocu"] == []  # no league table in a regional report
    top = sql(
        published,
        "SELECT ocg_id FROM marts.ocg_disruption_summary WHERE total_disruptions > 0 "
        "ORDER BY net_disruption_score DESC, total_disruptions DESC, ocg_id LIMIT 15",
        rocu="EMSOU",
    )
    assert [row["ocg_id"] for row in data["top_ocgs"]] == [ocg for (ocg,) in top]
    assert {row["rocu"] for row in data["top_ocgs"]} == {"EMSOU"}
    assert {row["rocu"] for row in data["balance"]} == {"EMSOU"}
    emsou_forces = {
        force
        for (force,) in sql(
            published, "SELECT force_code FROM reference.forces WHERE rocu_code = 'EMSOU'"
        )
    }
    assert {row["force_code"] for row in data["balance"]} == emsou_forces
    assert data["monthly"]["panels"] and set(data["monthly"]["panels"]) <= emsou_forces
    in_window = sql(
        published,
        "SELECT sum(claim_count) FROM marts.disruptions_monthly "
        "WHERE is_disruption AND disruption_month >= DATE '2024-07-01' AND rocu = 'EMSOU'",
    )[0][0]
    assert sum(sum(values) for values in data["monthly"]["total"].values()) == in_window
    # Tactic effectiveness is national: the same in every report.
    national = parse(write_report(published))[1]
    assert data["tactics"] == national["tactics"]
    # No other region's OCG appears anywhere on the page, explanations included.
    html = path.read_text(encoding="utf-8")
    own = {
        ocg
        for (ocg,) in sql(
            published, "SELECT ocg_id FROM marts.ocg_disruption_summary WHERE rocu = 'EMSOU'"
        )
    }
    shown = set(re.findall(r"OCG-\d{4}", html))
    assert shown and shown <= own
    assert len(explanations(html)) == len(top)


def test_regional_data_quality_shows_the_ledger_and_the_build_but_no_national_only_table(
    published,
):
    path = write_report(published, rocu="EMSOU")
    html = path.read_text(encoding="utf-8")
    dq = parse(path)[1]["data_quality"]
    national = parse(write_report(published))[1]["data_quality"]
    assert dq["national_only"] is True
    # The regional file has no quarantine, validations or alerts: they can quote any region.
    assert dq["top_reasons"] == [] and dq["load_validations"] == [] and dq["recent_alerts"] == []
    assert "value not allowed" not in html and "Rejected file zephyr" not in html
    assert "In the national report (the validations can name other regions' OCGs)." in html
    assert "Alerts are in the national report" in html
    # What names no OCG is there, as in the national report.
    for key in ("batches_by_status", "quarantined_rows", "held_batches", "model_tests"):
        assert dq[key] == national[key], key
    assert [row["batch_id"] for row in dq["held_batches"]] == [6]
    assert (
        dq["quarantined_rows"]
        == sql(published, "SELECT sum(rows_quarantined) FROM audit.load_batches", rocu="EMSOU")[0][
            0
        ]
    )
    assert 'data-model-tests="pass"' in html


def test_unknown_rocu_lists_the_published_regions(published):
    with pytest.raises(UserError) as refused:
        write_report(published, rocu="NOWHERE")
    assert str(refused.value) == f"unknown ROCU 'NOWHERE'; published regions: {REGIONS}"
    assert not list((published.home / "reports").glob("report-*"))


def test_regional_report_before_any_regional_file_tells_the_user_to_run_the_pipeline(
    published,
):
    for path in published.regional_published_dir.iterdir():
        path.unlink()
    with pytest.raises(UserError, match="no regional files published yet; run `disruptions run`"):
        write_report(published, rocu="EMSOU")


def test_missing_published_file_tells_the_user_to_run_the_pipeline(empty_settings):
    with pytest.raises(UserError, match="run `disruptions run`"):
        write_report(empty_settings)


def _ledger_row(batch_id: int, status: str, message: str) -> str:
    return (
        f"({batch_id}, 'ocg_assessments', 'unit/file_{batch_id}.csv', 'x', 10, 10, 0, "
        f"'{status}', '{message}', TIMESTAMP '2026-06-30 03:00', TIMESTAMP '2026-06-30 03:01', "
        "'r'"
    )


def test_many_held_batches_show_the_count_and_the_most_recent_ten(published):
    reason = "held: " + "very long reason " * 40
    held = [_ledger_row(batch_id, "held", reason) for batch_id in range(100, 115)]
    released = _ledger_row(115, "loaded", "released by the steward")
    # The published ledger and its batch-status model, as publication copies them.
    change(
        published.published_path,
        f"INSERT INTO audit.load_batches VALUES {'), '.join([*held, released])})",
        "INSERT INTO audit.batch_status VALUES "
        + ", ".join(f"{row}, NULL, NULL, NULL, 'held', false)" for row in held)
        + f", {released}, 'released', TIMESTAMP '2026-06-30 04:00', 'steward', 'released', true)",
    )
    path = write_report(published)
    page, data = parse(path)
    expected = sql(
        published,
        "SELECT count(*) FROM audit.batch_status WHERE batch_status IN ('held', 'discarded')",
    )
    assert number(page.figures["held_batch_count"]) == expected[0][0] == 16
    held_rows = data["data_quality"]["held_batches"]
    assert [row["batch_id"] for row in held_rows] == list(range(114, 104, -1))
    assert {row["decision"] for row in held_rows} == {"awaiting review"}
    html = path.read_text(encoding="utf-8")
    assert html.count("data-held-batch=") == 10
    assert 'data-held-batch="115"' not in html  # released: counted, not held
    clipped = re.findall(r">(held: very long reason[^<]*…)</td>", html)
    assert len(clipped) == 10 and all(len(text) == 220 for text in clipped)


def test_cli_writes_the_report_and_refuses_an_unknown_rocu_in_one_line(published, capsys):
    from disruptions.cli import main

    assert main(["report", "--rocu", "tarian"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {published.home}/reports/report-TARIAN.html"
    assert main(["report", "--rocu", "MARS"]) == 2
    err = capsys.readouterr().err
    assert err == f"disruptions report: error: unknown ROCU 'MARS'; published regions: {REGIONS}\n"


def test_an_empty_publication_still_gives_a_report_of_zeros(published):
    for path in (published.published_path, published.regional_published_path("EMSOU")):
        statements = [
            f"DELETE FROM {schema}.{table}"
            for schema, table in sql(
                published,
                "SELECT schema_name, table_name FROM duckdb_tables() "
                "WHERE schema_name IN ('marts', 'audit')",
                rocu=None if path == published.published_path else "EMSOU",
            )
        ]
        change(path, *statements)
    for rocu in (None, "EMSOU"):
        path = write_report(published, rocu=rocu)
        page, data = parse(path)
        assert number(page.figures["total_disruptions"]) == 0
        assert data["as_of_date"] is None and data["top_ocgs"] == []
        assert data["tolerance"] is None and data["data_quality"]["model_tests"] == []
        assert explanations(path.read_text(encoding="utf-8")) == {}


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
    # The copy is taken mid-publish: the run's publish step is still "running".
    change(
        published.published_path,
        "INSERT INTO audit.pipeline_runs VALUES "
        "('run-b', DATE '2026-06-30', 'ingest', 'success', TIMESTAMP '2026-07-01 02:00', "
        "TIMESTAMP '2026-07-01 02:01', NULL), "
        "('run-b', DATE '2026-06-30', 'publish', 'running', TIMESTAMP '2026-07-01 02:05', "
        "NULL, NULL)",
    )
    html = write_report(published).read_text(encoding="utf-8")
    assert "Pipeline run <strong>run-b</strong>, started 2026-07-01 02:00" in html
    assert "failed: " not in html.split("</header>")[0]
    change(
        published.published_path,
        "INSERT INTO audit.pipeline_runs VALUES ('run-c', DATE '2026-07-01', 'dbt_build', "
        "'failed', TIMESTAMP '2026-07-02 02:00', TIMESTAMP '2026-07-02 02:03', 'boom')",
    )
    header = write_report(published).read_text(encoding="utf-8").split("</header>")[0]
    assert "failed: dbt_build" in header
    # A regional report reads its own file's copy of the runs.
    regional = write_report(published, rocu="EMSOU").read_text(encoding="utf-8")
    assert "Pipeline run <strong>run-2026-06-30</strong>" in regional.split("</header>")[0]
