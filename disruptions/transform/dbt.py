"""Running dbt: one command on the project, as a subprocess against the engine's warehouse.

On DuckDB, dbt opens the working file itself, so the caller holds the writer lock for the
whole command but never an open connection while dbt runs. The engine (engines/) names
the profile's target, its connection settings and its type vars. dbt's telemetry and
version check are switched off for every command.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

from disruptions import progress
from disruptions.config import DBT_PROJECT_DIR, Settings
from disruptions.engines import Engine, engine_for
from disruptions.errors import PipelineError
from disruptions.logs import MultiLine

log = logging.getLogger(__name__)


# dbt's line for a finished node: "12:00:01  12 of 245 OK created sql table model ...".
NODE_FINISHED = re.compile(
    r"\b(?P<done>\d+) of (?P<total>\d+) (?:OK|PASS|WARN|ERROR|FAIL|SKIP|NO-OP)\b"
)
# Statuses in run_results.json that mean a node did not pass.
FAILED_STATUSES = {"error", "fail", "runtime error"}


def dbt_executable() -> Path:
    """The dbt of the interpreter running us (the project's virtualenv)."""
    return Path(sys.executable).parent / "dbt"


def _dbt_environment(engine: Engine) -> dict[str, str]:
    env = os.environ.copy()
    env.update(engine.dbt_environment())
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


def _error_summary(output: str) -> str:
    """dbt's own account of an error no node reported (a project that does not parse, a
    profile it cannot read): the lines after "Encountered an error", in one line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if "Encountered an error" in line:
            return " ".join(lines[index + 1 : index + 8])[:500]
    for line in reversed(lines):
        if "error" in line.lower():
            return line[:300]
    return lines[-1][:300] if lines else "no output"


def _run_reporting_progress(
    command: list[str], env: dict[str, str], progress_step: str
) -> subprocess.CompletedProcess[str]:
    """Run dbt, reporting its "N of M" node lines as the step's progress as they come."""
    lines = []
    with subprocess.Popen(
        command,
        cwd=DBT_PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            finished = NODE_FINISHED.search(line)
            if finished:
                progress.report(
                    progress_step,
                    "progress",
                    nodes_done=int(finished["done"]),
                    nodes_total=int(finished["total"]),
                )
    return subprocess.CompletedProcess(command, process.returncode, "".join(lines), "")


def run_dbt(
    settings: Settings,
    *args: str,
    progress_step: str | None = None,
    engine: Engine | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run one dbt command on the project; raise PipelineError naming the failing nodes.

    `engine` defaults to the configured one (DISRUPTIONS_ENGINE); the reference bootstrap
    passes the DuckDB working file's, the control plane's. With `progress_step`, dbt's
    output is read as it comes (stderr merged into stdout) and each finished node is
    reported as that step's progress (progress.py)."""
    engine = engine or engine_for(settings)
    engine_vars = engine.dbt_vars()
    target_dir = settings.dbt_target_dir
    target_dir.mkdir(parents=True, exist_ok=True)
    log_dir = settings.logs_dir / "dbt"
    log_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(engine.dbt_executable()),
        "--no-use-colors",
        *args,
        "--target",
        engine.dbt_target,
        *(["--vars", json.dumps(engine_vars)] if engine_vars else []),
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
        if progress_step:
            completed = _run_reporting_progress(command, _dbt_environment(engine), progress_step)
        else:
            completed = subprocess.run(
                command,
                cwd=DBT_PROJECT_DIR,
                env=_dbt_environment(engine),
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
            else _error_summary(completed.stdout + "\n" + completed.stderr)
        )
        log.error("dbt %s output:\n%s", args[0], MultiLine(completed.stdout[-5000:]))
        raise PipelineError(f"dbt {args[0]} failed: {detail}", alert_raised=False)
    return completed
