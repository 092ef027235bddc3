"""The dbt project on a real warehouse built from hand-made raw rows (tests/dbt/raw_rows.py).

One warehouse is built once per module and taken through the life of the pipeline:
as_of 1, as_of 2, a backfill to as_of 1, then released held batches plus new batches (of
both feeds) built incrementally and, on a copy, with a full refresh. Each stage's marts
are read into Python so the tests below only compare.
"""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
import raw_rows  # tests/dbt is on sys.path (rootdir-relative, no packages)
import yaml

from disruptions.config import DBT_PROJECT_DIR, load_settings
from disruptions.errors import PipelineError
from disruptions.transform.build import build_marts, full_refresh_reason
from disruptions.transform.dbt import run_dbt
from disruptions.transform.docs import generate_dbt_docs, project_fingerprint
from disruptions.warehouse import open_warehouse

pytestmark = pytest.mark.slow

MARTS = (
    "ocg_disruption_summary",
    "ocg_long_term_effect",
    "disruptions_monthly",
    "tactic_effectiveness",
    "rocu_force_balance",
    "dim_ocg_assessment_history",
    "fct_disruption_claims",
)


def read_marts(warehouse: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            mart: con.execute(f"SELECT * FROM marts.{mart} ORDER BY ALL").fetchall()
            for mart in MARTS
        }
    finally:
        con.close()


def read_table(warehouse: Path, mart: str) -> list[tuple]:
    return query(warehouse, f"SELECT * FROM marts.{mart} ORDER BY ALL")


def query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def as_text(value):
    return value.isoformat() if isinstance(value, date) else value


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """Build the warehouse through every stage once; return what each stage produced.

    as_of 2 first, then a backfill to as_of 1 (which must force a full refresh), then
    new batches built incrementally at as_of 2, and the same with a full refresh on a copy.
    """
    home = tmp_path_factory.mktemp("dbt_home")
    settings = load_settings(home=home)
    settings.ensure_dirs()
    with open_warehouse(settings) as con:
        raw_rows.load_initial_batches(con)

    stages = {"settings": settings}
    stages["first"] = build_marts(settings, "run-1", raw_rows.AS_OF_2)
    stages["marts_as_of_2"] = read_marts(settings.warehouse_path)
    # The dbt unit tests, on the warehouse as it stands (they need their parents built).
    stages["unit_tests"] = run_dbt(
        settings, "test", "--select", "test_type:unit", "--vars", '{"as_of": "2026-03-31"}'
    )

    stages["backfill"] = build_marts(settings, "run-2", raw_rows.AS_OF_1)
    stages["marts_as_of_1"] = read_marts(settings.warehouse_path)

    with open_warehouse(settings) as con:
        raw_rows.release_held_batches_and_load_new_ones(con)
    copy_settings = load_settings(home=tmp_path_factory.mktemp("dbt_home_copy"))
    copy_settings.ensure_dirs()
    shutil.copyfile(settings.warehouse_path, copy_settings.warehouse_path)
    stages["incremental"] = build_marts(settings, "run-3", raw_rows.AS_OF_2)
    # The SQL each incremental model compiled to in that build (read before the docs
    # generation below compiles the project again).
    run_dir = settings.dbt_target_dir / "compiled" / "disruptions" / "models"
    stages["incremental_sql"] = {
        model: (run_dir / folder / f"{model}.sql").read_text(encoding="utf-8")
        for folder, model in (
            ("intermediate", "int_disruption_current_versions"),
            ("intermediate", "int_ocg_assessments_ranked"),
            ("intermediate", "int_effect_at_anchor"),
            ("marts", "fct_disruption_claims"),
            ("marts", "dim_ocg_assessment_history"),
        )
    }
    stages["marts_incremental"] = read_marts(settings.warehouse_path)
    stages["full_refresh"] = build_marts(
        copy_settings, "run-3-full", raw_rows.AS_OF_2, full_refresh=True
    )
    stages["marts_full_refresh"] = read_marts(copy_settings.warehouse_path)
    stages["copy_settings"] = copy_settings
    stages["dbt_docs"] = generate_dbt_docs(settings)
    return stages


def summary_by_ocg(rows):
    return {row[0]: tuple(as_text(value) for value in row[1:-1]) for row in rows}


def effect_by_ocg(rows):
    result = {}
    for row in rows:
        values = [as_text(value) for value in row[1:-1]]
        result[row[0]] = tuple(
            round(value, 6) if isinstance(value, float) else value for value in values
        )
    return result


def test_summary_counts_approved_current_versions_at_each_as_of(pipeline):
    assert summary_by_ocg(pipeline["marts_as_of_1"]["ocg_disruption_summary"]) == (
        raw_rows.SUMMARY_AS_OF_1
    )
    assert summary_by_ocg(pipeline["marts_as_of_2"]["ocg_disruption_summary"]) == (
        raw_rows.SUMMARY_AS_OF_2
    )


def test_long_term_effect_categories_match_the_hand_computed_answers(pipeline):
    assert effect_by_ocg(pipeline["marts_as_of_1"]["ocg_long_term_effect"]) == (
        raw_rows.EFFECT_AS_OF_1
    )
    assert effect_by_ocg(pipeline["marts_as_of_2"]["ocg_long_term_effect"]) == (
        raw_rows.EFFECT_AS_OF_2
    )


def test_every_mart_row_carries_the_as_of_date(pipeline):
    for stage, as_of in (("marts_as_of_1", raw_rows.AS_OF_1), ("marts_as_of_2", raw_rows.AS_OF_2)):
        for mart, rows in pipeline[stage].items():
            assert rows, mart
            assert {row[-1] for row in rows} == {as_of}, mart


def test_held_and_discarded_batches_are_excluded(pipeline):
    summary = summary_by_ocg(pipeline["marts_as_of_2"]["ocg_disruption_summary"])
    # Held batch 3 would withdraw D1 and add a major D10; discarded batch 4 a major D11.
    assert summary["A"][5] == 1  # major_count: D1 still counts, D10 does not
    assert summary["B"][5] == 1  # only D4, amended to major; never D11


def test_monthly_counts_each_counted_disruption_once_in_its_cell(pipeline):
    rows = pipeline["marts_as_of_1"]["disruptions_monthly"]
    cells = {tuple(as_text(value) for value in row[:7]): row[7:10] for row in rows}
    assert cells == {
        ("2025-01-01", "NWROCU", "GMP", "GMP", "pursue", "arrest", "major"): (True, 1, 3),
        ("2025-02-01", "NWROCU", "GMP", "NCA", "prevent", "drugs_seizure", "moderate"): (
            True,
            1,
            2,
        ),
        ("2025-03-01", "NWROCU", "GMP", "GMP", "pursue", "arrest", "none"): (False, 1, 0),
        ("2025-02-01", "LDNROCU", "MPS", "LDNROCU", "pursue", "cash_seizure", "moderate"): (
            True,
            1,
            2,
        ),
        ("2025-02-01", "ERSOU", "KENT", "KENT", "pursue", "arrest", "minor"): (True, 1, 1),
    }


def test_tactic_effectiveness_measures_each_tactic_from_its_first_use(pipeline):
    rows = {row[0]: row for row in pipeline["marts_as_of_2"]["tactic_effectiveness"]}
    assert len(rows) == 15  # every tactic of the seed
    # arrest: first used against A on 2025-01-10 (reduced), C on 2025-02-10 (no baseline)
    # and G on 2025-06-20 (too early at as_of 2026-03-31).
    arrest = rows["arrest"]
    # ocgs_targeted, ocgs_measured_12m, then dismantled .. too_early in the seed's order
    assert arrest[1:10] == (3, 2, 0, 1, 0, 0, 0, 1, 1)
    assert arrest[11] == pytest.approx(0.5)  # share_reduced_12m
    assert arrest[15] == pytest.approx(0.5)  # share_insufficient_baseline_12m
    assert sum(arrest[10:16]) == pytest.approx(1.0)  # the six shares
    assert arrest[16] == pytest.approx(-0.4)  # mean_pct_change_12m
    # drugs_seizure was first used against A on 2025-02-15, after A's first disruption
    # (2025-01-10): its 12 months run from 2025-02-15, its baseline is the assessment
    # before that date.
    assert rows["drugs_seizure"][1:4] == (1, 1, 0) and rows["drugs_seizure"][4] == 1
    assert rows["cash_seizure"][1:4] == (1, 1, 1)  # B, dismantled
    # D3 (arrest against A) had impact none: no pair of its own. D7 was withdrawn.
    assert rows["imprisonment"][1] == 0
    assert rows["imprisonment"][10] is None
    assert rows["deterrence"][1:3] == (0, 0)


def test_rocu_force_balance_counts_the_last_12_months_against_active_ocgs_at_as_of(pipeline):
    rows = {row[1]: row for row in pipeline["marts_as_of_2"]["rocu_force_balance"]}
    assert len(rows) == 44
    gmp, kent, mps, lancs = rows["GMP"], rows["KENT"], rows["MPS"], rows["LANCS"]
    # Window (2025-03-31, 2026-03-31]. GMP: only D9 (2025-06-20); D1 and D2 are older.
    # A is active at as_of, band 2B, not highest-threat.
    assert gmp[:8] == ("NWROCU", "GMP", 1, 1.0, 1, 1.0, 0, None)
    assert gmp[8] == pytest.approx(0.0)  # effort_gap = 1.0 - 1.0
    assert lancs[2:6] == (0, 0.0, 0, 0.0)
    # KENT: D6 (2025-02-10) is outside the window; C is active in band 1B, highest-threat.
    assert kent[2:9] == (0, None, 1, 1.0, 1, 1.0, None)
    # MPS: D4 is outside the window and B is archived: nothing, and no shares.
    assert mps[2:9] == (0, None, 0, None, 0, None, None)
    older = {row[1]: row for row in pipeline["marts_as_of_1"]["rocu_force_balance"]}
    # At as_of 2025-06-30 the window (2024-06-30, 2025-06-30] holds D1 and D2 (D3's
    # impact is none); D9 is dated in it but was recorded on 2025-07-05, after as_of.
    assert older["GMP"][2] == 2


def claim_outcomes(rows) -> dict[str, list[tuple[str, int, str]]]:
    """disruption_id -> [(recorded_at, batch_id, outcome)] in recorded order."""
    outcomes: dict[str, list[tuple[str, int, str]]] = {}
    for row in sorted(rows, key=lambda row: (row[0], row[1], row[2])):
        outcomes.setdefault(row[0], []).append((row[1].strftime("%Y-%m-%d"), row[2], row[13]))
    return outcomes


def test_claims_fact_gives_every_knowable_version_its_outcome(pipeline):
    at_2 = claim_outcomes(pipeline["marts_as_of_2"]["fct_disruption_claims"])
    # Batch 3 is held: its withdrawal of D1 and its new D10 do not count, D1 still does.
    assert at_2["D1"] == [("2025-01-11", 1, "counted"), ("2025-04-01", 3, "held_batch")]
    assert at_2["D10"] == [("2025-04-02", 3, "held_batch")]
    assert at_2["D11"] == [("2025-04-02", 4, "discarded_batch")]
    assert at_2["D2"] == [("2025-02-16", 1, "superseded"), ("2025-05-01", 5, "counted")]
    assert [outcome for *_, outcome in at_2["D7"]] == ["superseded", "withdrawn"]
    assert at_2["D5"] == [("2025-03-02", 1, "pending"), ("2025-03-20", 10, "held_batch")]
    assert at_2["D8"] == [("2025-04-02", 1, "rejected")]
    assert [outcome for *_, outcome in at_2["D3"]] == ["counted"]  # impact none still counts

    # At AS_OF_1, D9 (recorded 2025-07-05) is not yet knowable and is not in the mart.
    at_1 = claim_outcomes(pipeline["marts_as_of_1"]["fct_disruption_claims"])
    assert "D9" not in at_1 and "D9" in at_2

    # Batch 3 released: D1's withdrawal supersedes the first version, and D10 counts.
    final = claim_outcomes(pipeline["marts_incremental"]["fct_disruption_claims"])
    assert final["D1"] == [("2025-01-11", 1, "superseded"), ("2025-04-01", 3, "withdrawn")]
    assert final["D10"] == [("2025-04-02", 3, "counted")]
    # Batch 10 discarded: its version of D5 changes outcome, and D5 still pends.
    assert final["D5"] == [("2025-03-02", 1, "pending"), ("2025-03-20", 10, "discarded_batch")]

    rows = pipeline["marts_incremental"]["fct_disruption_claims"]
    superseded = [row for row in rows if row[13] == "superseded"]
    assert superseded and all(row[14] is not None and row[14] > row[1] for row in superseded)
    assert all(row[14] is None for row in rows if row[13] != "superseded")
    # Every figure of the summary recounts from the counted rows.
    counted = [row for row in rows if row[13] == "counted"]
    summary = {row[0]: row for row in pipeline["marts_incremental"]["ocg_disruption_summary"]}
    for ocg_id, row in summary.items():
        mine = [claim for claim in counted if claim[3] == ocg_id]
        assert len(mine) == row[11] + row[9], ocg_id  # total_disruptions + none_count


def test_assessment_history_is_scd2_with_the_row_loaded_last(pipeline):
    rows = pipeline["marts_as_of_2"]["dim_ocg_assessment_history"]
    history_a = [(as_text(r[1]), as_text(r[2]), r[3], r[4]) for r in rows if r[0] == "A"]
    assert history_a == [
        ("2024-12-01", "2025-04-01", False, 50),
        ("2025-04-01", "2025-09-01", False, 44),
        ("2025-09-01", None, True, 30),
    ]
    as_of_1_rows = pipeline["marts_as_of_1"]["dim_ocg_assessment_history"]
    assert len(as_of_1_rows) == 6  # A's 2025-09-01 assessment is after AS_OF_1
    assert len(rows) == 7


def test_dbt_build_with_unit_tests_passes(pipeline):
    output = pipeline["unit_tests"].stdout
    assert pipeline["unit_tests"].returncode == 0
    assert "ERROR=0" in output
    # Every unit test in the project ran and passed: none silently deselected.
    unit_tests = sum(
        len(yaml.safe_load(path.read_text(encoding="utf-8")).get("unit_tests", []))
        for path in (DBT_PROJECT_DIR / "models").rglob("*.yml")
    )
    assert unit_tests >= 18
    # dbt counts the project's on-run-start hooks with them (macros/spark.sql's renders
    # nothing off Spark).
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    hooks = len(project.get("on-run-start") or [])
    assert f"PASS={unit_tests + hooks} " in output


def test_every_model_and_unit_test_name_fits_a_postgres_identifier():
    # PostgreSQL cuts identifiers at 63 bytes, and dbt names a unit test's relations after
    # the test: a longer name collides or fails there (issue 13), though DuckDB takes it.
    names = [path.stem for path in (DBT_PROJECT_DIR / "models").rglob("*.sql")]
    for path in (DBT_PROJECT_DIR / "models").rglob("*.yml"):
        properties = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        names += [unit_test["name"] for unit_test in properties.get("unit_tests", [])]
    assert len(names) > 40
    too_long = [name for name in names if len(name.encode()) > 63]
    assert too_long == []


def test_backfill_to_an_earlier_as_of_forces_a_full_refresh(pipeline):
    assert pipeline["first"]["full_refresh"] is False
    assert pipeline["backfill"]["full_refresh"] is True
    assert "earlier than the previous build" in pipeline["backfill"]["full_refresh_reason"]
    # ...and what it builds is what was knowable then (the exact answers are checked above).
    assert summary_by_ocg(pipeline["marts_as_of_1"]["ocg_disruption_summary"]) == (
        raw_rows.SUMMARY_AS_OF_1
    )


def test_incremental_build_with_new_and_released_batches_equals_a_full_refresh(pipeline):
    assert pipeline["incremental"]["full_refresh"] is False
    assert pipeline["full_refresh"]["full_refresh"] is True
    incremental, full = pipeline["marts_incremental"], pipeline["marts_full_refresh"]
    for mart in MARTS:
        assert incremental[mart] == full[mart], mart
    summary = summary_by_ocg(incremental["ocg_disruption_summary"])
    # Released batch 3: D1 withdrawn, D10 major counts. Batch 7: D6 now major, D12 for E.
    assert summary["A"][5:11] == (1, 1, 0, 1, 0, 2)
    assert summary["C"][5:11] == (1, 0, 0, 0, 0, 1)
    assert summary["E"][5:11] == (0, 0, 1, 0, 0, 1)
    warehouse = pipeline["settings"].warehouse_path
    assert query(warehouse, "SELECT count(*) FROM staging.stg_disruptions") == query(
        warehouse, "SELECT count(*) FROM raw.disruptions"
    )


def test_no_column_named_rationale_outside_raw(pipeline):
    for settings_key in ("settings",):
        warehouse = pipeline[settings_key].warehouse_path
        found = query(
            warehouse,
            "SELECT table_schema, table_name FROM information_schema.columns "
            "WHERE lower(column_name) = 'rationale' AND table_schema <> 'raw'",
        )
        assert found == []
        assert (
            query(warehouse, "SELECT count(*) FROM raw.disruptions WHERE rationale IS NOT NULL")[0][
                0
            ]
            > 0
        )


def test_a_failing_data_test_raises_pipeline_error_naming_the_node(tmp_path):
    settings = load_settings(home=tmp_path / "home")
    settings.ensure_dirs()
    with open_warehouse(settings) as con:
        raw_rows.insert_batch(
            con,
            1,
            "disruptions",
            "loaded",
            [
                (
                    "X1",
                    "A",
                    "2025-01-10",
                    "2025-01-11 10:00",
                    "major",
                    "pursue",
                    "not_a_tactic",
                    "GMP",
                    "GMP",
                    "approved",
                )
            ],
        )
    with pytest.raises(PipelineError) as raised:
        build_marts(settings, "run-bad", raw_rows.AS_OF_1)
    message = str(raised.value)
    assert "\n" not in message
    assert "publishing blocked" in message
    assert "relationships_disruptions_monthly_tactic" in message
    # The build raised the alert naming the test, so Airflow's callback will not.
    assert raised.value.alert_raised is True
    with open_warehouse(settings) as con:
        [(severity, source, subject)] = con.execute(
            "SELECT severity, source, subject FROM audit.dq_alerts"
        ).fetchall()
        results = dict(
            con.execute(
                "SELECT test_name, status FROM audit.dbt_test_results WHERE run_id = 'run-bad'"
            ).fetchall()
        )
    assert (severity, source) == ("critical", "dbt_test")
    assert "relationships_disruptions_monthly_tactic" in subject
    failing = {name: status for name, status in results.items() if status != "pass"}
    assert any(name.startswith("relationships_disruptions_monthly_tactic") for name in failing)
    # The source's own check against the seed is a warning: an operator's seed edit.
    assert any(
        name.startswith("source_relationships_raw_disruptions_tactic") and status == "warn"
        for name, status in failing.items()
    )


def test_dbt_docs_are_one_static_page_describing_the_marts(pipeline):
    page = pipeline["dbt_docs"]
    assert page == pipeline["settings"].dbt_docs_dir / "index.html"
    html = page.read_text(encoding="utf-8")
    assert "ocg_long_term_effect" in html
    assert "dismantled_within_12m" in html


def test_dbt_docs_are_generated_again_only_when_the_project_changed(pipeline):
    settings = pipeline["settings"]
    page, marker = pipeline["dbt_docs"], settings.dbt_docs_dir / "project.sha256"
    written = page.stat().st_mtime_ns
    assert marker.read_text(encoding="utf-8") == project_fingerprint()
    generate_dbt_docs(settings)  # the same project: the page stands
    assert page.stat().st_mtime_ns == written
    marker.write_text("the fingerprint of an older project", encoding="utf-8")
    generate_dbt_docs(settings)
    assert page.stat().st_mtime_ns != written
    assert marker.read_text(encoding="utf-8") == project_fingerprint()


def test_a_new_as_of_reuses_dbts_parse_of_the_project(pipeline):
    """as_of reaches the models through audit.run_context, not a dbt var, so a build at a
    new as_of reuses the parse of the invocation before it (a dbt invocation that did
    pass --vars, like the fixture's unit-test run, does make the next one parse again)."""
    log = (pipeline["settings"].logs_dir / "dbt" / "dbt.log").read_text(encoding="utf-8")
    invocations = log.split("running dbt with arguments")[1:]
    command = re.compile(r"'invocation_command': '([^']*)'")
    commands = [command.search(text)[1] for text in invocations]
    reused = [
        text
        for previous, current, text in zip(commands, commands[1:], invocations[1:], strict=False)
        if " build " in current and "--vars" not in previous and "--vars" not in current
    ]
    assert len(reused) >= 1  # the incremental build at AS_OF_2 after the backfill to AS_OF_1
    for text in reused:
        assert "Partial parsing enabled, no changes found, skipping parsing" in text
        assert "Unable to do partial parsing" not in text


def state_reason_after(settings, sql: str, parameters=()) -> str | None:
    """full_refresh_reason at AS_OF_2 after `sql`, which is rolled back afterwards."""
    with open_warehouse(settings) as con:
        assert full_refresh_reason(settings, raw_rows.AS_OF_2, False, con) is None
        con.begin()
        try:
            con.execute(sql, list(parameters))
            return full_refresh_reason(settings, raw_rows.AS_OF_2, False, con)
        finally:
            con.rollback()


def test_a_batch_that_stops_counting_forces_a_full_refresh(pipeline):
    # The incremental current-version table is exact only while counted batches stay counted.
    reason = state_reason_after(
        pipeline["copy_settings"],
        "UPDATE audit.load_batches SET status = 'held' WHERE batch_id = 5",
    )
    assert reason is not None and "5" in reason
    assert "int_disruption_current_versions" in reason


@pytest.mark.parametrize("batch_id", [2, 8, 9])
def test_an_assessment_batch_that_stops_counting_forces_a_full_refresh(pipeline, batch_id):
    # Only the assessments' state lists assessment batches (8 was released, 9 is new), so
    # this is that state's check at work.
    reason = state_reason_after(
        pipeline["copy_settings"],
        "UPDATE audit.load_batches SET status = 'held' WHERE batch_id = ?",
        [batch_id],
    )
    assert reason == (
        f"batch(es) {batch_id} counted at the previous build of int_ocg_assessments_ranked "
        "but not now"
    )


def test_assessments_built_for_a_later_as_of_force_a_full_refresh(pipeline):
    # last_build.json and the current-version state say AS_OF_2; only the assessments'
    # state says later, as if its last build had been for a later day.
    reason = state_reason_after(
        pipeline["copy_settings"],
        "UPDATE intermediate.int_ocg_assessments_ranked_state SET as_of_date = DATE '2026-04-01'",
    )
    assert reason is not None
    assert "earlier than the previous build's 2026-04-01 (int_ocg_assessments_ranked)" in reason


def test_history_rows_built_with_an_older_seed_are_rebuilt_by_an_incremental_build(
    pipeline, tmp_path
):
    """dim_ocg_assessment_history carries two seed values (forces' ROCU, ocg_bands' rank):
    rows that hold a value the seed no longer has are rebuilt, though their OCG gained
    no assessment, and the table equals the full refresh's again."""
    settings = load_settings(home=tmp_path / "home")
    settings.ensure_dirs()
    shutil.copyfile(pipeline["settings"].warehouse_path, settings.warehouse_path)
    with open_warehouse(settings) as con:
        con.execute(
            "UPDATE marts.dim_ocg_assessment_history SET rocu = 'OLDROCU' WHERE ocg_id = 'A'"
        )
        con.execute("UPDATE marts.dim_ocg_assessment_history SET band_rank = 99 WHERE ocg_id = 'E'")
    assert (
        read_table(settings.warehouse_path, "dim_ocg_assessment_history")
        != (pipeline["marts_full_refresh"]["dim_ocg_assessment_history"])
    )
    result = build_marts(settings, "run-after-seed-edit", raw_rows.AS_OF_2)
    assert result["full_refresh"] is False
    assert (
        read_table(settings.warehouse_path, "dim_ocg_assessment_history")
        == (pipeline["marts_full_refresh"]["dim_ocg_assessment_history"])
    )


def test_incremental_assessments_rerank_only_ocgs_that_gained_a_row(pipeline):
    sql = pipeline["incremental_sql"]
    # Both models really ran incrementally (delete+insert of the re-ranked keys only).
    assert "gained_a_version" in sql["int_disruption_current_versions"]
    assert "gained_a_row" in sql["int_ocg_assessments_ranked"]
    assert "touched_disruptions" in sql["fct_disruption_claims"]
    assert "touched_ocgs" in sql["int_effect_at_anchor"]
    assert "rebuilt_ocgs" in sql["dim_ocg_assessment_history"]
    warehouse = pipeline["settings"].warehouse_path
    summary = summary_by_ocg(pipeline["marts_incremental"]["ocg_disruption_summary"])
    assert summary["C"][3] == 25  # released batch 8: C re-assessed 2025-06-01
    effect = effect_by_ocg(pipeline["marts_incremental"]["ocg_long_term_effect"])
    assert effect["B"][1] == 70  # batch 9 re-sent B's baseline assessment
    assert effect["A"][7] == 30  # A's 2025-09-01 became knowable when as_of moved on
    # E gained nothing: its row is still the one built at AS_OF_1 (batch 2), and correct.
    assert query(
        warehouse,
        "SELECT assessed_on, threat_score, is_latest_for_ocg, as_of_date "
        "FROM intermediate.int_ocg_assessments WHERE ocg_id = 'E'",
    ) == [(date(2025, 1, 15), 10, True, raw_rows.AS_OF_2)]
    assert query(
        warehouse, "SELECT DISTINCT as_of_date FROM intermediate.int_ocg_assessments_ranked_state"
    ) == [(raw_rows.AS_OF_2,)]
    assert query(
        warehouse,
        "SELECT batch_id FROM intermediate.int_ocg_assessments_ranked_state ORDER BY 1",
    ) == [(2,), (6,), (8,), (9,)]


def test_an_ocg_that_loses_every_anchor_loses_its_effect_rows_incrementally(pipeline, tmp_path):
    # A new batch withdraws D6, the last counted disruption of C: C has no anchor left, so
    # the incremental build has nothing to replace C's effect rows with and must delete
    # them (the effect model's post-hook), as a full refresh on a copy does.
    homes = {}
    for name in ("incremental", "full"):
        settings = load_settings(home=tmp_path / name)
        settings.ensure_dirs()
        shutil.copyfile(pipeline["settings"].warehouse_path, settings.warehouse_path)
        with open_warehouse(settings) as con:
            withdrawal = list(raw_rows.DISRUPTIONS_BATCH_7[0])
            withdrawal[3], withdrawal[9] = "2025-09-01 10:00", "withdrawn"
            raw_rows.insert_batch(con, 11, "disruptions", "loaded", [tuple(withdrawal)])
        homes[name] = settings
    built = build_marts(homes["incremental"], "run-withdraw", raw_rows.AS_OF_2)
    assert built["full_refresh"] is False
    build_marts(homes["full"], "run-withdraw-full", raw_rows.AS_OF_2, full_refresh=True)
    incremental = read_marts(homes["incremental"].warehouse_path)
    assert incremental == read_marts(homes["full"].warehouse_path)
    assert any(row[0] == "C" for row in pipeline["marts_incremental"]["ocg_long_term_effect"])
    assert not any(row[0] == "C" for row in incremental["ocg_long_term_effect"])
    assert query(
        homes["incremental"].warehouse_path,
        "SELECT count(*) FROM intermediate.int_effect_at_anchor WHERE ocg_id = 'C'",
    ) == [(0,)]


def test_a_window_dismantled_before_its_horizon_is_measured_again_when_it_closes(tmp_path):
    # At AS_OF_1, B's 6-month window (baseline 2025-02-01) is already dismantled
    # (2025-05-01) but its horizon, 2025-08-01, is still ahead: no score at the horizon
    # yet. At 2025-09-30, with nothing new loaded and no new assessment of B, the horizon
    # has passed and the score must be measured, as a full refresh does.
    later = date(2025, 9, 30)
    homes = {}
    for name in ("incremental", "full"):
        settings = load_settings(home=tmp_path / name)
        settings.ensure_dirs()
        homes[name] = settings
    with open_warehouse(homes["incremental"]) as con:
        raw_rows.load_initial_batches(con)
    build_marts(homes["incremental"], "run-1", raw_rows.AS_OF_1)
    shutil.copyfile(homes["incremental"].warehouse_path, homes["full"].warehouse_path)
    built = build_marts(homes["incremental"], "run-2", later)
    assert built["full_refresh"] is False
    build_marts(homes["full"], "run-2-full", later, full_refresh=True)
    effect_sql = (
        "SELECT * FROM intermediate.int_effect_at_anchor ORDER BY ocg_id, anchor_date, "
        "horizon_months"
    )
    incremental = query(homes["incremental"].warehouse_path, effect_sql)
    assert incremental == query(homes["full"].warehouse_path, effect_sql)
    assert read_marts(homes["incremental"].warehouse_path) == read_marts(
        homes["full"].warehouse_path
    )
    [b_6m] = [row for row in incremental if row[0] == "B" and row[2] == 6]
    assert b_6m[15] == "dismantled" and b_6m[9] is not None  # its score at the horizon


def test_dbt_refuses_an_incremental_assessment_build_after_a_batch_stopped_counting(
    pipeline, tmp_path
):
    # The guard inside the model, for a hand-run `dbt build` that skips build_marts' check;
    # build_marts itself then falls back to a full refresh that drops the batch's rows.
    settings = load_settings(home=tmp_path / "home")
    settings.ensure_dirs()
    shutil.copyfile(pipeline["copy_settings"].warehouse_path, settings.warehouse_path)
    with open_warehouse(settings) as con:
        con.execute("UPDATE audit.load_batches SET status = 'held' WHERE batch_id = 9")
    with pytest.raises(PipelineError) as raised:
        run_dbt(
            settings,
            "build",
            "--select",
            "int_ocg_assessments_ranked",
            "--vars",
            f'{{"as_of": "{raw_rows.AS_OF_2.isoformat()}"}}',
        )
    assert "int_ocg_assessments_ranked" in str(raised.value)
    assert "no longer counts" in str(raised.value)
    built = build_marts(settings, "run-guard", raw_rows.AS_OF_2)
    assert built["full_refresh"] is True and "9" in built["full_refresh_reason"]
    effect = effect_by_ocg(read_marts(settings.warehouse_path)["ocg_long_term_effect"])
    assert effect["B"][1] == 80  # B's baseline assessment from batch 2 again


def test_a_build_that_did_not_finish_makes_the_next_one_a_full_refresh(pipeline, tmp_path):
    settings = pipeline["settings"]
    assert full_refresh_reason(settings, raw_rows.AS_OF_2, False) is None
    interrupted = load_settings(home=tmp_path / "home")
    marker = interrupted.dbt_target_dir / "last_build.json"
    marker.parent.mkdir(parents=True)
    marker.write_text(
        '{"as_of": "2026-03-30", "in_progress": {"as_of": "2026-03-31", "run_id": "r9"}}'
    )
    reason = full_refresh_reason(interrupted, raw_rows.AS_OF_2, False)
    assert reason is not None and "did not finish" in reason


@pytest.fixture
def built_copy(pipeline, tmp_path):
    """A copy of the built warehouse (at as_of 2), for tests that break it on purpose."""
    settings = load_settings(home=tmp_path / "copy")
    settings.ensure_dirs()
    shutil.copyfile(pipeline["copy_settings"].warehouse_path, settings.warehouse_path)
    return settings


def run_check(settings, test_name: str) -> str:
    """Run one dbt data test on the warehouse as it stands; '' when it passes, otherwise
    the failure naming it."""
    try:
        run_dbt(
            settings,
            "test",
            "--select",
            test_name,
            "--vars",
            f'{{"as_of": "{raw_rows.AS_OF_2.isoformat()}"}}',
        )
    except PipelineError as failure:
        return str(failure)
    return ""


def test_the_recount_and_the_reconciliation_pass_on_a_correct_build(built_copy):
    assert run_check(built_copy, "assert_summary_recounts_from_sources") == ""
    assert run_check(built_copy, "assert_marts_reconcile") == ""


def test_the_independent_recount_catches_a_summary_the_sources_do_not_support(built_copy):
    with open_warehouse(built_copy) as con:
        con.execute(
            "UPDATE marts.ocg_disruption_summary SET net_disruption_score = "
            "net_disruption_score + 1 WHERE ocg_id = 'A'"
        )
    failure = run_check(built_copy, "assert_summary_recounts_from_sources")
    assert "assert_summary_recounts_from_sources" in failure and "fail" in failure


def test_the_recount_fails_rather_than_passes_when_a_table_it_reads_is_missing(built_copy):
    with open_warehouse(built_copy) as con:
        con.execute("ALTER TABLE raw.disruptions RENAME TO disruptions_gone")
    failure = run_check(built_copy, "assert_summary_recounts_from_sources")
    assert "assert_summary_recounts_from_sources" in failure and "error" in failure


def test_the_reconciliation_names_the_mart_that_lost_a_row(built_copy):
    with open_warehouse(built_copy) as con:
        con.execute(
            "DELETE FROM marts.disruptions_monthly WHERE rowid = "
            "(SELECT min(rowid) FROM marts.disruptions_monthly)"
        )
    failure = run_check(built_copy, "assert_marts_reconcile")
    assert "assert_marts_reconcile" in failure
