"""`disruptions run`: the nightly DAG, run once through Airflow without a scheduler.

It is the same DAG file the scheduler runs (dags/disruptions_nightly.py), executed with
`dag.test()`, which runs each task in-process in dependency order and records the run in
an SQLite metadata database under `$DISRUPTIONS_HOME/airflow`.

Airflow reads its configuration once, when it is first imported. So that the run always
uses this home's metadata database and DAG folder (whatever the calling process imported
before, a test session say), the DAG run happens in a fresh Python interpreter:
`python -m disruptions.runner`, which holds the warehouse writer lock for the whole run.
A second `disruptions run` on the same home therefore waits for the first to finish
instead of interleaving with it or failing on DuckDB's lock.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from disruptions.config import (
    DAGS_DIR,
    SCHEDULED_HOUR,
    TIMEZONE,
    Settings,
    load_settings,
    task_retries,
)
from disruptions.errors import PipelineError, UserError
from disruptions.feeds import EARLIEST_DISRUPTION_DATE
from disruptions.logs import printable
from disruptions.progress import PROGRESS_FILE_VARIABLE, ProgressPrinter

DAG_ID = "disruptions_nightly"
DAG_FILE = DAGS_DIR / "disruptions_nightly.py"
LOCAL_ZONE = ZoneInfo(TIMEZONE)
# How often the parent prints what the run has done since it last looked.
PROGRESS_POLL_SECONDS = 0.25


def logical_date_for(as_of: date | None) -> datetime:
    """The logical date whose local calendar date is as_of (now when none is given); an
    explicit as_of uses the hour of the scheduled run."""
    if as_of is None:
        return datetime.now(tz=LOCAL_ZONE)
    return datetime(as_of.year, as_of.month, as_of.day, SCHEDULED_HOUR, tzinfo=LOCAL_ZONE)


def check_as_of(as_of: date) -> None:
    """Refuse an as_of no run can mean: before any disruption can be dated, or in the
    future (the marts would count as knowable what nobody can know yet, and be
    published as the live figures)."""
    today = datetime.now(tz=LOCAL_ZONE).date()
    if as_of < EARLIEST_DISRUPTION_DATE:
        raise UserError(
            f"--as-of {as_of.isoformat()} is before {EARLIEST_DISRUPTION_DATE.isoformat()}, "
            "the earliest disruption_date the feeds accept: there is nothing to count"
        )
    if as_of > today:
        raise UserError(
            f"--as-of {as_of.isoformat()} is after today ({today.isoformat()}, {TIMEZONE}): "
            "a run can only show what is knowable now, and its marts are published as the "
            "live figures"
        )


def airflow_environment(settings: Settings) -> dict[str, str]:
    """Environment for the embedded Airflow: this home's SQLite metadata, our DAG folder."""
    airflow_home = settings.airflow_home
    return {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(airflow_home / "logs"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "60",
        "DISRUPTIONS_HOME": str(settings.home),
        "DISRUPTIONS_LANDING": str(settings.landing),
        # Someone is waiting at the terminal: fail fast rather than sit out retry backoffs.
        "DISRUPTIONS_TASK_RETRIES": str(task_retries(0)),
        # Airflow's output goes to a log file: no colour codes in it.
        "NO_COLOR": "1",
    }


# --------------------------------------------------------------------------------------
# The parent side: what `disruptions run` calls.
# --------------------------------------------------------------------------------------


def run_nightly(
    settings: Settings, as_of: date | None, progress_stream: IO[str] | None = None
) -> str:
    """Run the nightly DAG once and return a summary; raise PipelineError if it failed.

    With `progress_stream`, each task's start and end (and ingest's files and rows so far)
    are printed to it while the run goes on (progress.py)."""
    if as_of is not None:
        check_as_of(as_of)
    # The landing folder is not created here: a missing one is the ingest step's error.
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    logical = logical_date_for(as_of)
    stamp = datetime.now(tz=LOCAL_ZONE).strftime("%Y%m%dT%H%M%S")
    airflow_log = settings.logs_dir / f"airflow-run-{stamp}-{os.getpid()}.log"
    env = {**os.environ, **airflow_environment(settings)}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="disruptions-run-") as scratch:
        result_path = Path(scratch) / "result.json"
        progress_path = Path(scratch) / "progress.jsonl"
        env[PROGRESS_FILE_VARIABLE] = str(progress_path)
        printer = None
        if progress_stream is not None:
            printer = ProgressPrinter(progress_path, progress_stream, time.time())
            printer.announce(f"starting the DAG run in Airflow (log: {airflow_log})")
        with open(airflow_log, "w", encoding="utf-8") as log_file:
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "disruptions.runner",
                    "--logical-date",
                    logical.isoformat(),
                    "--result",
                    str(result_path),
                ],
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
            try:
                while child.poll() is None:
                    if printer:
                        printer.poll()
                    time.sleep(PROGRESS_POLL_SECONDS)
            except BaseException:
                child.kill()
                child.wait()
                raise
            finally:
                if printer:
                    printer.close()
        if not result_path.exists():
            raise PipelineError(
                f"the Airflow run did not start (exit code {child.returncode}); see {airflow_log}"
            )
        result = json.loads(result_path.read_text(encoding="utf-8"))
    elapsed = time.monotonic() - started
    if result.get("error"):
        raise PipelineError(f"{result['error']} (log: {airflow_log})")
    if result["state"] != "success":
        raise PipelineError(_failure_line(result, airflow_log))
    return _summary(settings, result, elapsed, airflow_log)


def _failure_line(result: dict[str, Any], airflow_log: Path) -> str:
    failed = result.get("failed") or []
    if not failed:
        states = ", ".join(f"{task} {state}" for task, state in result["tasks"])
        return f"run {result['run_id']} ended {result['state']} ({states}); see {airflow_log}"
    task, message = failed[0]
    return f"task {task} failed: {message or 'see ' + str(airflow_log)}"


def _waiting_lines(waiting: list[list[str]]) -> list[str]:
    if not waiting:
        return []
    shown = [f"{printable(source)} ({reason})" for source, reason in waiting[:10]]
    more = f", and {len(waiting) - 10} more" if len(waiting) > 10 else ""
    return [
        f"  files left for a later run: {len(waiting)}: " + ", ".join(shown) + more,
    ]


def _summary(settings: Settings, result: dict[str, Any], elapsed: float, log: Path) -> str:
    from disruptions.engines import engine_for

    batches = result.get("batches") or {}
    lines = [
        f"{DAG_ID} run {result['run_id']} (as_of {result['as_of']}): "
        f"{result['state']} in {elapsed:.1f}s",
        "  tasks: " + ", ".join(f"{task} {state}" for task, state in result["tasks"]),
        "  files this run: "
        + (", ".join(f"{count} {status}" for status, count in sorted(batches.items())) or "none"),
        f"  rows loaded {result.get('rows_loaded', 0)}, "
        f"quarantined {result.get('rows_quarantined', 0)}; "
        f"batches held (all runs, awaiting review): {result.get('held_total', 0)}",
        *_waiting_lines(result.get("waiting") or []),
        f"  published: {engine_for(settings).published_location()}",
        f"  report:    {settings.report_path}",
        f"  logs:      {settings.logs_dir / 'pipeline.log'}, {log}",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# The child side: a fresh interpreter whose environment points Airflow at this home.
# --------------------------------------------------------------------------------------


def _migrate_metadata_db(airflow_home: Path) -> None:
    """Create or upgrade the SQLite metadata database (skipped when already current)."""
    from airflow import __version__ as airflow_version
    from airflow.utils.db import initdb, upgradedb

    marker = airflow_home / f".db-migrated-{airflow_version}"
    if marker.exists():
        return
    if (airflow_home / "airflow.db").exists():
        upgradedb()
    else:
        initdb()
    marker.touch()


def _load_dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    if bag.import_errors:
        path, error = next(iter(bag.import_errors.items()))
        last_line = str(error).strip().splitlines()[-1]
        raise PipelineError(f"{path}: the DAG does not import: {last_line}")
    return bag.dags[DAG_ID]


def _run_facts(settings: Settings, run_id: str) -> dict[str, Any]:
    """Files and rows this run loaded, held batches, and each failed step's message."""
    from disruptions.warehouse import BATCH_STATUS, open_warehouse

    with open_warehouse(settings) as con:
        batches = dict(
            con.execute(
                "SELECT status, count(*) FROM audit.load_batches WHERE run_id = ? GROUP BY 1",
                [run_id],
            ).fetchall()
        )
        rows_loaded, rows_quarantined = con.execute(
            "SELECT coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0) "
            "FROM audit.load_batches WHERE run_id = ?",
            [run_id],
        ).fetchone()
        held_total = con.execute(
            f"SELECT count(*) FROM {BATCH_STATUS} WHERE batch_status = 'held'"
        ).fetchone()[0]
        waiting = con.execute(
            "SELECT source_file, reason FROM audit.landing_waiting WHERE run_id = ? "
            "ORDER BY source_file",
            [run_id],
        ).fetchall()
        step_errors = dict(
            con.execute(
                "SELECT step, arg_max(message, started_at) FROM audit.pipeline_runs "
                "WHERE run_id = ? AND status = 'failed' GROUP BY step",
                [run_id],
            ).fetchall()
        )
    return {
        "batches": batches,
        "rows_loaded": int(rows_loaded),
        "rows_quarantined": int(rows_quarantined),
        "held_total": int(held_total),
        "waiting": [list(row) for row in waiting],
        "step_errors": step_errors,
    }


def _run_in_this_process(logical_date: datetime) -> dict[str, Any]:
    from disruptions.pipeline import as_of_for
    from disruptions.warehouse import writer_lock

    settings = load_settings()
    # The whole run holds the lock (steps re-enter it), so a concurrent run waits for
    # this one to publish before its own ingest starts. The metadata migration is inside
    # it too: two first runs on one home must not create the SQLite tables at once.
    with writer_lock(settings):
        _migrate_metadata_db(settings.airflow_home)
        dag = _load_dag()
        dag_run = dag.test(logical_date=logical_date)
        task_states = [
            (ti.task_id, str(ti.state.value if hasattr(ti.state, "value") else ti.state))
            for ti in sorted(dag_run.get_task_instances(), key=_task_order)
        ]
        facts = _run_facts(settings, dag_run.run_id)
    state = str(getattr(dag_run.state, "value", dag_run.state))
    failed = [
        (task_id, facts["step_errors"].get(task_id))
        for task_id, task_state in task_states
        if task_state == "failed"
    ]
    return {
        "run_id": dag_run.run_id,
        "as_of": as_of_for(logical_date).isoformat(),
        "state": state,
        "tasks": task_states,
        "failed": failed,
        **{key: value for key, value in facts.items() if key != "step_errors"},
    }


def _task_order(ti) -> tuple[int, str]:
    from disruptions.pipeline import STEPS

    return (STEPS.index(ti.task_id) if ti.task_id in STEPS else len(STEPS), ti.task_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m disruptions.runner")
    parser.add_argument("--logical-date", required=True, type=datetime.fromisoformat)
    parser.add_argument("--result", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        result = _run_in_this_process(args.logical_date)
    except PipelineError as error:
        result = {"error": str(error)}
    except Exception as error:
        # The traceback goes to the run's log file; the user gets one line.
        traceback.print_exc()
        result = {"error": f"{type(error).__name__}: {' '.join(str(error).split())}"}
    args.result.write_text(json.dumps(result), encoding="utf-8")
    return 0 if result.get("state") == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
