"""A load is one transaction: killing ingest mid-file leaves nothing of that file behind,
and the next run gives exactly what a clean run gives."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import duckdb
from ingest_helpers import DISRUPTION_HEADER, csv_text, disruption_row

from disruptions.config import load_settings
from disruptions.ingest import ingest_landing

BIG_ROWS = 150_000
SMALL_NAME = "disruptions_a_small.csv"
BIG_NAME = "disruptions_b_big.csv"


def write_big_csv(path) -> None:
    """Mostly good rows, every 997th with an unknown impact, some rationale across lines."""
    duckdb.connect().execute(
        f"""
        COPY (
            SELECT 'D' || i AS disruption_id, 'OCG' || (i % 500) AS ocg_id,
                   DATE '2020-01-01' + CAST(i % 1500 AS INTEGER) AS disruption_date,
                   (DATE '2020-01-02' + CAST(i % 1500 AS INTEGER))::TIMESTAMP AS recorded_at,
                   CASE WHEN i % 997 = 0 THEN 'bogus' ELSE 'minor' END AS impact,
                   'pursue' AS strand, 'arrest' AS tactic, 'NCA' AS lead_agency,
                   'MPS' AS force_area, 'approved' AS status, 'Op ' || (i % 50) AS operation,
                   CASE WHEN i % 1009 = 0 THEN 'two' || chr(10) || 'lines, quoted'
                        ELSE 'note ' || i END AS rationale
            FROM range({BIG_ROWS}) AS t(i)
        ) TO '{path}' (HEADER, DELIMITER ',')
        """
    )


def prepare_home(home, big_source) -> None:
    landing = home / "landing"
    landing.mkdir(parents=True)
    (landing / SMALL_NAME).write_text(csv_text(DISRUPTION_HEADER, disruption_row("S1")))
    shutil.copyfile(big_source, landing / BIG_NAME)


def start_ingest(home) -> subprocess.Popen:
    env = {**os.environ, "DISRUPTIONS_LANDING_SETTLE_SECONDS": "0"}
    env.pop("DISRUPTIONS_LANDING", None)
    command = [sys.executable, "-m", "disruptions.cli", "ingest", "--home", str(home)]
    return subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)


def wait_for_small_file_committed(process: subprocess.Popen) -> None:
    """ingest logs each file after its commit; the big file's load starts right after."""
    for line in process.stderr:
        if f"{SMALL_NAME}: loaded" in line:
            return
    raise AssertionError("ingest ended without loading the small file")


def snapshot(home) -> dict[str, list]:
    """Everything ingest writes, without timestamps and run ids."""
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:  # read-write: replays the WAL
        return {
            "batches": con.execute(
                "SELECT * EXCLUDE (started_at, finished_at, run_id) FROM audit.load_batches "
                "ORDER BY batch_id"
            ).fetchall(),
            "raw": con.execute(
                "SELECT * EXCLUDE (loaded_at) FROM raw.disruptions ORDER BY batch_id, line_number"
            ).fetchall(),
            "quarantine": con.execute(
                "SELECT * FROM audit.quarantine ORDER BY batch_id, line_number"
            ).fetchall(),
        }


def test_killed_ingest_leaves_no_partial_batch_and_rerun_matches_a_clean_run(tmp_path, monkeypatch):
    big_source = tmp_path / "big.csv"
    write_big_csv(big_source)
    clean_home, crash_home = tmp_path / "clean", tmp_path / "crash"
    prepare_home(clean_home, big_source)
    prepare_home(crash_home, big_source)

    clean = start_ingest(clean_home)
    wait_for_small_file_committed(clean)
    big_started = time.monotonic()
    clean.communicate()
    assert clean.returncode == 0
    big_load_seconds = time.monotonic() - big_started

    crashing = start_ingest(crash_home)
    wait_for_small_file_committed(crashing)
    time.sleep(big_load_seconds * 0.4)
    assert crashing.poll() is None, "ingest finished before it could be killed mid-load"
    crashing.send_signal(signal.SIGKILL)
    crashing.communicate()
    assert crashing.returncode == -signal.SIGKILL

    after_crash = snapshot(crash_home)
    assert [batch[2] for batch in after_crash["batches"]] == [SMALL_NAME]
    assert [row[0] for row in after_crash["raw"]] == ["S1"]
    assert after_crash["quarantine"] == []

    monkeypatch.setenv("DISRUPTIONS_LANDING_SETTLE_SECONDS", "0")
    monkeypatch.delenv("DISRUPTIONS_LANDING", raising=False)
    ingest_landing(load_settings(home=crash_home), run_id="rerun")
    expected = snapshot(clean_home)
    assert len(expected["raw"]) + len(expected["quarantine"]) == BIG_ROWS + 1
    assert len(expected["quarantine"]) == len(range(0, BIG_ROWS, 997))
    assert snapshot(crash_home) == expected
