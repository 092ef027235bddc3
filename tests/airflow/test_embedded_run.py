"""`disruptions run`: the real nightly DAG through Airflow (dag.test, SQLite metadata) on a
tiny synthetic sample, with real ingest, Great Expectations, dbt, DuckDB and report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import duckdb
import pytest

from disruptions.config import load_settings
from disruptions.errors import PipelineError
from disruptions.pipeline import STEPS
from disruptions.runner import run_nightly

pytestmark = pytest.mark.slow

AS_OF = date(2026, 10, 31)
DISRUPTIONS_CLI = str(Path(sys.executable).with_name("disruptions"))


def write_tiny_sample(landing: Path) -> None:
    from disruptions.synth import generate_feeds

    generate_feeds(landing, ocgs=40, disruptions=400, layout="single", with_bad_input=True)


def warehouse_rows(settings, sql: str, params=()) -> list[tuple]:
    from disruptions.warehouse import open_warehouse

    with open_warehouse(settings) as con:
        return con.execute(sql, list(params)).fetchall()


def test_nightly_run_publishes_then_a_failed_task_alerts_and_keeps_the_publication(
    settings, monkeypatch
):
    write_tiny_sample(settings.landing)

    summary = run_nightly(settings, as_of=AS_OF)

    assert "(as_of 2026-10-31): success" in summary
    for step in STEPS:
        assert f"{step} success" in summary
    published = duckdb.connect(str(settings.published_path), read_only=True)
    marts = {
        name
        for (name,) in published.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
        ).fetchall()
    }
    as_of_dates = published.execute(
        "SELECT DISTINCT as_of_date FROM marts.ocg_disruption_summary"
    ).fetchall()
    published.close()
    assert {"ocg_disruption_summary", "ocg_long_term_effect"} <= marts
    assert as_of_dates == [(AS_OF,)]
    assert settings.report_path.is_file()
    assert (settings.dbt_docs_dir / "index.html").is_file()
    assert (settings.data_docs_dir / "index.html").is_file()
    run_id = summary.split(" run ", 1)[1].split(" ", 1)[0]
    steps = warehouse_rows(
        settings,
        "SELECT step, status, as_of FROM audit.pipeline_runs WHERE run_id = ? ORDER BY started_at",
        [run_id],
    )
    assert steps == [(step, "success", AS_OF) for step in STEPS]
    assert "step publish succeeded" in (settings.logs_dir / "pipeline.log").read_text()
    published_before = settings.published_path.read_bytes()

    # A misconfigured landing folder: ingest fails, the failure callback raises the alert,
    # and nothing downstream runs, so the previous publication stays.
    monkeypatch.setenv("DISRUPTIONS_LANDING", str(settings.home / "no-such-landing"))
    broken = load_settings()
    with pytest.raises(PipelineError) as failure:
        run_nightly(broken, as_of=AS_OF)

    message = str(failure.value)
    assert message.startswith("task ingest failed: ")
    assert "landing folder does not exist" in message
    assert "\n" not in message
    alerts = warehouse_rows(
        settings,
        "SELECT severity, source, subject, message FROM audit.dq_alerts WHERE source = 'airflow'",
    )
    assert len(alerts) == 1
    severity, _, subject, alert_message = alerts[0]
    assert severity == "critical"
    assert "ingest" in subject
    assert "landing folder does not exist" in alert_message
    assert settings.published_path.read_bytes() == published_before
    failed_steps = warehouse_rows(
        settings, "SELECT step FROM audit.pipeline_runs WHERE status = 'failed'"
    )
    assert failed_steps == [("ingest",)]


READER = textwrap.dedent(
    """
    import json, os, sys, time, duckdb
    path, stop, out = sys.argv[1:4]
    reads, errors = 0, []
    while not os.path.exists(stop):
        if not os.path.exists(path):
            time.sleep(0.2)  # nothing published yet; do not spin on a shared machine
            continue
        try:
            con = duckdb.connect(path, read_only=True)
            try:
                con.execute("SELECT count(*) FROM marts.ocg_disruption_summary").fetchone()
                con.execute("SELECT count(*) FROM marts.ocg_long_term_effect").fetchone()
                con.execute("SELECT count(*) FROM audit.load_batches").fetchone()
                reads += 1
            finally:
                con.close()
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}")
    json.dump({"reads": reads, "errors": errors[:10]}, open(out, "w"))
    """
)


def test_two_runs_started_at_once_on_one_home_both_succeed_one_after_the_other(settings, tmp_path):
    write_tiny_sample(settings.landing)
    # The reader starts before anything is published; it reads whatever is there.
    stop, out = tmp_path / "stop", tmp_path / "reader.json"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(settings.published_path), str(stop), str(out)]
    )
    env = {**os.environ, "DISRUPTIONS_HOME": str(settings.home)}
    runs = [
        subprocess.Popen(
            [DISRUPTIONS_CLI, "run", "--as-of", as_of],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for as_of in ("2026-10-30", "2026-10-31")
    ]
    try:
        outputs = [run.communicate(timeout=600) for run in runs]
    finally:
        stop.touch()
        reader.wait(timeout=60)

    for run, (stdout, stderr) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, stderr
        assert ": success in" in stdout
        assert "lock" not in stderr.lower()
    result = json.loads(out.read_text())
    assert result["errors"] == []
    assert result["reads"] > 0
    # One run held the warehouse from its first step to its last: the runs did not
    # interleave (every step of one finished before the other's ingest started).
    rows = warehouse_rows(
        settings,
        "SELECT run_id, min(started_at), max(finished_at) FROM audit.pipeline_runs "
        "GROUP BY run_id ORDER BY 2",
    )
    spans = rows[-2:]
    assert spans[0][2] <= spans[1][1]


def test_a_failing_dbt_test_blocks_publishing_and_alerts_once_naming_the_test(settings):
    write_tiny_sample(settings.landing)
    run_nightly(settings, as_of=AS_OF)
    published_before = settings.published_path.read_bytes()
    alerts_before = warehouse_rows(settings, "SELECT count(*) FROM audit.dq_alerts")[0][0]
    # A counted claim version the models cannot count right: ingest would never load a
    # tactic the seed does not know, nor GX pass it, so the batch is written by hand, as
    # loaded and already validated.
    warehouse_rows(
        settings,
        """
        INSERT INTO audit.load_batches (batch_id, feed, source_file, sha256, rows_read,
            rows_loaded, rows_quarantined, status, message, started_at, finished_at, run_id)
        VALUES (nextval('audit.batch_id_seq'), 'disruptions', 'by_hand.csv', 'x', 1, 1, 0,
            'loaded', 'written by the test', now()::TIMESTAMP, now()::TIMESTAMP, 'test')
        RETURNING 1
        """,
    )
    warehouse_rows(
        settings,
        """
        INSERT INTO raw.disruptions
        SELECT * REPLACE ('not_a_tactic' AS tactic, 'X-' || disruption_id AS disruption_id,
                          (SELECT max(batch_id) FROM audit.load_batches) AS batch_id)
        FROM raw.disruptions WHERE status = 'approved' LIMIT 1
        RETURNING 1
        """,
    )
    warehouse_rows(
        settings,
        "INSERT INTO audit.batch_validations SELECT max(batch_id), 'disruptions_batch', true, "
        "0, 0, now()::TIMESTAMP, 'test', '{}' FROM audit.load_batches RETURNING 1",
    )

    with pytest.raises(PipelineError) as failure:
        run_nightly(settings, as_of=AS_OF)

    assert str(failure.value).startswith("task dbt_build failed: ")
    assert "relationships_disruptions_monthly_tactic" in str(failure.value)
    assert settings.published_path.read_bytes() == published_before
    new_alerts = warehouse_rows(
        settings,
        "SELECT source, severity, subject FROM audit.dq_alerts ORDER BY alert_id OFFSET ?",
        [alerts_before],
    )
    sources = [source for source, _, _ in new_alerts]
    assert sources.count("dbt_test") == 1, new_alerts
    [(_, severity, subject)] = [alert for alert in new_alerts if alert[0] == "dbt_test"]
    assert severity == "critical" and "publishing blocked" in subject
    # The build already raised a detailed alert, so the failure callback stays quiet.
    assert "airflow" not in sources, new_alerts
    failed_steps = warehouse_rows(
        settings, "SELECT step FROM audit.pipeline_runs WHERE status = 'failed'"
    )
    assert failed_steps == [("dbt_build",)]
