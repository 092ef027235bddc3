"""A run killed with -9 mid-step is shown as interrupted, and the next run closes it."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import duckdb
import pytest
from conftest import DISRUPTIONS
from hostile_files import good_files

pytestmark = pytest.mark.slow


def test_a_killed_run_is_shown_interrupted_and_the_next_run_marks_it_failed(cli):
    for relative, content in good_files().items():
        path = cli.landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    # A long settle time keeps the ingest step busy (it waits for fresh files to settle)
    # while the test kills the run.
    env = {**cli.env, "DISRUPTIONS_LANDING_SETTLE_SECONDS": "120"}
    run = subprocess.Popen(
        [DISRUPTIONS, "run", "--as-of", "2026-11-01"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    log = cli.home / "logs" / "pipeline.log"
    deadline = time.monotonic() + 120
    while not (log.exists() and "step ingest started" in log.read_text(encoding="utf-8")):
        assert time.monotonic() < deadline, "the run never started its ingest step"
        assert run.poll() is None, "the run ended before it could be killed"
        time.sleep(0.2)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()

    status = cli("status")
    assert status.returncode == 0, status.stderr
    last_run = status.stdout.split("Last run:", 1)[1]
    assert "ingest" in last_run and "interrupted" in last_run

    again = cli("run", "--as-of", "2026-11-01")
    assert again.returncode == 0, again.stderr
    con = duckdb.connect(str(cli.home / "published" / "disruptions.duckdb"), read_only=True)
    steps = con.execute(
        "SELECT status, message FROM audit.pipeline_runs WHERE step = 'ingest' ORDER BY started_at"
    ).fetchall()
    con.close()
    assert steps[0][0] == "failed" and steps[0][1].startswith("interrupted")
    assert steps[-1] == ("success", None)
