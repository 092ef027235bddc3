"""dbt seed / build / docs, run as subprocesses against the working warehouse.

dbt opens the DuckDB file itself, so this process holds the writer lock for the whole
build but never an open connection while dbt runs.

Incremental state: the staging tables append the rows of batches not copied yet (nothing
in them depends on `as_of`); int_disruption_current_versions re-ranks only the
disruptions that gained a knowable version since its last build, and
int_ocg_assessments_ranked only the OCGs that gained a knowable assessment, which is exact
while `as_of` only moves forward and no batch stops counting. Each keeps the as_of and the
counted batches of its feed in a state table (INCREMENTAL_MODELS). So a build runs
`--full-refresh` when asked, or automatically when `as_of` is earlier than the previous
build's (a backfill; kept in `<dbt_target_dir>/last_build.json` and in the state tables),
a batch counted at the previous build no longer counts, or the previous build did not
finish (its dbt run may have updated an incremental table but not its state).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from disruptions.config import DBT_PROJECT_DIR, Settings
from disruptions.errors import PipelineError
from disruptions.warehouse import open_warehouse, writer_lock

log = logging.getLogger(__name__)

LAST_BUILD_FILE = "last_build.json"
# The incremental models that keep a build state, each with its state table (schema
# intermediate); see _incremental_state_reason.
INCREMENTAL_MODELS = (
    ("int_disruption_current_versions", "int_disruption_current_versions_state"),
    ("int_ocg_assessments_ranked", "int_ocg_assessments_ranked_state"),
)
# Statuses in run_results.json that mean a node did not pass.
FAILED_STATUSES = {"error", "fail", "runtime error"}


def dbt_executable() -> Path:
    """The dbt of the interpreter running us (the project's virtualenv)."""
    return Path(sys.executable).parent / "dbt"


def _dbt_environment(settings: Settings) -> dict[str, str]:
    env = os.environ.copy()
    env["DISRUPTIONS_WAREHOUSE"] = str(settings.warehouse_path)
    env["DISRUPTIONS_DUCKDB_MEMORY_LIMIT"] = settings.duckdb_memory_limit
    # The nightly run has no business calling home; offline it would only add delays.
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "False"
    env["DBT_NO_VERSION_CHECK"] = "True"
    return env


def _failed_nodes(target_dir: Path) -> list[str]:
    """`unique_id (status: message)` for every node that did not pass in the last invocation."""
    results_path = target_dir / "run_results.json"
    if not results_path.exists():
        return []
    try:
        results = json.loads(results_path.read_text(encoding="utf-8")).get("results", [])
    except (OSError, ValueError):
        return []
    failed = []
    for result in results:
        if result.get("status") in FAILED_STATUSES:
            message = " ".join(str(result.get("message") or "").split())[:160]
            failed.append(f"{result.get('unique_id')} ({result.get('status')}: {message})")
    return failed


def _last_error_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        if "error" in line.lower():
            return line[:300]
    return lines[-1][:300] if lines else "no output"


def run_dbt(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one dbt command on the project; raise PipelineError naming the failing nodes."""
    target_dir = settings.dbt_target_dir
    target_dir.mkdir(parents=True, exist_ok=True)
    log_dir = settings.logs_dir / "dbt"
    log_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(dbt_executable()),
        "--no-use-colors",
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target_dir),
        "--log-path",
        str(log_dir),
    ]
    log.info("dbt %s", " ".join(args))
    (target_dir / "run_results.json").unlink(missing_ok=True)
    try:
        completed = subprocess.run(
            command,
            cwd=DBT_PROJECT_DIR,
            env=_dbt_environment(settings),
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as error:
        raise PipelineError(
            f"dbt {args[0]} could not start: {error}", alert_raised=False
        ) from error
    if completed.returncode != 0:
        failed = _failed_nodes(target_dir)
        detail = (
            f"{len(failed)} node(s) failed: " + "; ".join(failed)
            if failed
            else _last_error_line(completed.stdout + "\n" + completed.stderr)
        )
        log.error("dbt %s output:\n%s", args[0], completed.stdout[-5000:])
        raise PipelineError(f"dbt {args[0]} failed: {detail}", alert_raised=False)
    return completed


def _read_last_build(settings: Settings) -> dict:
    path = settings.dbt_target_dir / LAST_BUILD_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_last_build(settings: Settings, record: dict) -> None:
    path = settings.dbt_target_dir / LAST_BUILD_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=2), encoding="utf-8")
    os.replace(temporary, path)


def _incremental_state_reason(con, as_of: date) -> str | None:
    """Why an incremental model (INCREMENTAL_MODELS) cannot be brought up to date incrementally.

    Its incremental run is exact only when as_of has not moved back and every batch that
    counted at its last build still counts (see the models' headers).
    """
    names = [name for pair in INCREMENTAL_MODELS for name in pair]
    placeholders = ", ".join("?" for _ in names)
    tables = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables "
            f"WHERE table_schema = 'intermediate' AND table_name IN ({placeholders})",
            names,
        ).fetchall()
    }
    for model, state in INCREMENTAL_MODELS:
        if model not in tables:
            continue  # first build of this model: dbt builds it in full anyway
        if state not in tables:
            return f"the previous build left no state for {model}"
        (previous_as_of,) = con.execute(
            f"SELECT max(as_of_date) FROM intermediate.{state}"
        ).fetchone()
        if previous_as_of is not None and as_of < previous_as_of:
            return (
                f"as_of {as_of.isoformat()} is earlier than the previous build's "
                f"{previous_as_of} ({model})"
            )
        lost = [
            batch_id
            for (batch_id,) in con.execute(
                f"SELECT batch_id FROM intermediate.{state} "
                "WHERE batch_id NOT IN "
                "(SELECT batch_id FROM audit.load_batches WHERE status = 'loaded') "
                "ORDER BY batch_id LIMIT 5"
            ).fetchall()
        ]
        if lost:
            return (
                f"batch(es) {', '.join(map(str, lost))} counted at the previous build of "
                f"{model} but not now"
            )
    return None


def full_refresh_reason(settings: Settings, as_of: date, requested: bool, con=None) -> str | None:
    """Why this build must rebuild the incremental models from scratch, or None."""
    if requested:
        return "requested"
    last_build = _read_last_build(settings)
    unfinished = last_build.get("in_progress")
    if unfinished:
        # dbt may have updated an incremental table but not its state table.
        return f"the previous build (run {unfinished.get('run_id')}) did not finish"
    previous = last_build.get("as_of")
    if previous and as_of.isoformat() < previous:
        return f"as_of {as_of.isoformat()} is earlier than the previous build's {previous}"
    return _incremental_state_reason(con, as_of) if con is not None else None


def _node_counts(settings: Settings) -> dict[str, int]:
    results_path = settings.dbt_target_dir / "run_results.json"
    counts: dict[str, int] = {}
    try:
        results = json.loads(results_path.read_text(encoding="utf-8")).get("results", [])
    except (OSError, ValueError):
        return counts
    for result in results:
        status = str(result.get("status"))
        counts[status] = counts.get(status, 0) + 1
    return counts


def build_marts(settings: Settings, run_id: str, as_of: date, full_refresh: bool = False) -> dict:
    """Seed the reference tables, build every model and run every data test as of `as_of`.

    Unit tests are not part of the nightly build: they test the SQL, not the data, and
    run in CI (tests/dbt). Returns a summary; raises PipelineError (alert not yet raised)
    naming the failing nodes.
    """
    started = time.monotonic()
    with writer_lock(settings):
        # The sources must exist even on an empty warehouse; close before dbt opens it.
        with open_warehouse(settings) as con:
            reason = full_refresh_reason(settings, as_of, full_refresh, con)
        refresh_flag = ["--full-refresh"] if reason else []
        if reason:
            log.info("dbt full refresh: %s", reason)
        last_build = _read_last_build(settings)
        _write_last_build(
            settings,
            {
                "as_of": last_build.get("as_of"),
                "run_id": last_build.get("run_id"),
                "in_progress": {"as_of": as_of.isoformat(), "run_id": run_id},
            },
        )
        # One invocation: `dbt build` seeds the reference tables before anything reads
        # them, then runs every model and data test in DAG order. A separate `dbt seed`
        # would cost a second dbt start-up and parse for the same result.
        run_dbt(
            settings,
            "build",
            "--vars",
            json.dumps({"as_of": as_of.isoformat()}),
            "--exclude-resource-type",
            "unit_test",
            *refresh_flag,
        )
        nodes = _node_counts(settings)
        _write_last_build(
            settings, {"as_of": as_of.isoformat(), "run_id": run_id, "full_refresh": bool(reason)}
        )
    return {
        "run_id": run_id,
        "as_of": as_of.isoformat(),
        "full_refresh": bool(reason),
        "full_refresh_reason": reason,
        "nodes": nodes,
        "seconds": round(time.monotonic() - started, 1),
    }


def generate_dbt_docs(settings: Settings) -> Path:
    """Write the self-contained dbt docs site to reports/dbt_docs/index.html."""
    # The last build's as_of: the docs then show the SQL that built the marts, and dbt
    # can reuse that build's parse instead of parsing the project again.
    as_of = _read_last_build(settings).get("as_of")
    as_of_vars = ["--vars", json.dumps({"as_of": as_of})] if as_of else []
    with writer_lock(settings):
        with open_warehouse(settings):
            pass
        run_dbt(settings, "docs", "generate", "--static", *as_of_vars)
    static_page = settings.dbt_target_dir / "static_index.html"
    settings.dbt_docs_dir.mkdir(parents=True, exist_ok=True)
    destination = settings.dbt_docs_dir / "index.html"
    shutil.copyfile(static_page, destination)
    return destination
