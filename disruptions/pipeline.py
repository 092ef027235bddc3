"""The nightly steps, one function per task of the `disruptions_nightly` DAG.

Every step loads its settings from the environment (DISRUPTIONS_HOME, DISRUPTIONS_LANDING),
holds the warehouse writer lock for its whole duration (so two runs started at once
queue step by step instead of failing on DuckDB's own lock), records itself in
`audit.pipeline_runs` (running, then success or failed) and logs to
`$DISRUPTIONS_HOME/logs/pipeline.log`.

The heavy modules (dbt, Great Expectations, DuckDB) are imported inside the steps so that
importing this module, which the DAG file does lazily, stays cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from disruptions import progress
from disruptions.config import TIMEZONE, Settings, load_settings
from disruptions.logs import MultiLine, attach_file_log

LOCAL_ZONE = ZoneInfo(TIMEZONE)
STEPS = (
    "ingest",
    "validate_batches",
    "dbt_build",
    "publish",
    "report_and_docs",
)

log = logging.getLogger("disruptions.pipeline")


def as_of_for(logical_date: datetime) -> date:
    """The run's as_of: its logical date as a calendar date in the product's time zone."""
    if logical_date.tzinfo is None:
        raise ValueError(f"logical date {logical_date!r} has no time zone")
    return logical_date.astimezone(LOCAL_ZONE).date()


def run_identity(context: dict[str, Any]) -> tuple[str, date]:
    """(run_id, as_of) for an Airflow task context.

    A run triggered without a logical date (possible in Airflow 3) uses the moment it was
    asked to run instead.
    """
    moment = context.get("logical_date")
    if moment is None:
        moment = context["dag_run"].run_after
    return str(context["run_id"]), as_of_for(moment)


def pipeline_log_path(settings: Settings) -> Path:
    return settings.logs_dir / "pipeline.log"


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 1000 else text[:997] + "..."


def _start_step(settings: Settings, step: str, run_id: str, as_of: date | None) -> None:
    from disruptions.warehouse import close_interrupted_steps, open_warehouse

    with open_warehouse(settings) as con:
        closed = close_interrupted_steps(con)
        if closed:
            log.warning("%d step(s) of an earlier run were left running: marked failed", closed)
        con.execute(
            "INSERT INTO audit.pipeline_runs (run_id, as_of, step, status, started_at) "
            "VALUES (?, ?, ?, 'running', now()::TIMESTAMP)",
            [run_id, as_of, step],
        )


def _finish_step(settings: Settings, step: str, run_id: str, message: str | None) -> None:
    from disruptions.warehouse import open_warehouse

    with open_warehouse(settings) as con:
        con.execute(
            "UPDATE audit.pipeline_runs SET status = ?, finished_at = now()::TIMESTAMP, "
            "message = ? WHERE run_id = ? AND step = ? AND status = 'running'",
            ["failed" if message else "success", message, run_id, step],
        )


@contextmanager
def recorded_step(step: str, run_id: str, as_of: date | None) -> Iterator[Settings]:
    """Run a step under the writer lock, recording it in audit.pipeline_runs and the log."""
    from disruptions.warehouse import writer_lock

    settings = load_settings()
    # Not settings.ensure_dirs(): creating a missing landing folder would hide a wrong
    # DISRUPTIONS_LANDING behind a run that quietly loads nothing.
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    attach_file_log(pipeline_log_path(settings))
    with writer_lock(settings):
        _start_step(settings, step, run_id, as_of)
        log.info("step %s started (run %s, as_of %s)", step, run_id, as_of)
        try:
            yield settings
        except BaseException as error:
            message = f"{type(error).__name__}: {_one_line(error)}"
            log.error("step %s failed (run %s): %s", step, run_id, message)
            _finish_step(settings, step, run_id, message)
            raise
        _finish_step(settings, step, run_id, None)
        log.info("step %s succeeded (run %s)", step, run_id)


def step_ingest(run_id: str, as_of: date) -> str:
    """Load every new landing file into raw.* (already-loaded files are no-ops by sha256)."""
    from disruptions.ingest import ingest_landing

    with recorded_step("ingest", run_id, as_of) as settings:
        summary = ingest_landing(settings, run_id)
        log.info("ingest: %s", MultiLine(summary))
        return str(summary)


def step_validate_batches(run_id: str, as_of: date) -> str:
    """Run each feed's suite on the batches not yet validated; critical failures hold them."""
    from disruptions.quality.batches import validate_new_batches

    with recorded_step("validate_batches", run_id, as_of) as settings:
        result = validate_new_batches(settings, run_id)
        log.info("validate_batches: %s", MultiLine(result))
        return str(result)


def step_dbt_build(run_id: str, as_of: date) -> str:
    """Seed and build the marts as of the run's date, with every data test: a failing test
    of severity error alerts and raises PipelineError, so nothing is published."""
    from disruptions.transform.build import build_marts

    with recorded_step("dbt_build", run_id, as_of) as settings:
        result = build_marts(settings, run_id, as_of)
        log.info("dbt_build: %s", result)
        nodes = ", ".join(f"{count} {status}" for status, count in sorted(result["nodes"].items()))
        if result["full_refresh"]:
            how = f"full refresh ({result['full_refresh_reason']})"
        else:
            how = "first build" if result["first_build"] else "incremental"
        return f"{how}, {nodes}"


def step_publish(run_id: str, as_of: date) -> str:
    """Swap the marts and the public audit tables in for readers, atomically: into
    published/disruptions.duckdb (and the regional files), or the engine's own schemas."""
    from disruptions.engines import engine_for

    with recorded_step("publish", run_id, as_of) as settings:
        return engine_for(settings).publish(run_id)


def step_report_and_docs(run_id: str, as_of: date) -> str:
    """Write the national HTML report, the dbt docs and the load-validation pages."""
    from disruptions.quality.load_docs import build_load_docs
    from disruptions.serve.report import write_report
    from disruptions.transform.docs import generate_dbt_docs

    with recorded_step("report_and_docs", run_id, as_of) as settings:
        report = write_report(settings)
        generate_dbt_docs(settings)
        build_load_docs(settings)
        log.info("report_and_docs: %s", report)
        return str(report)


STEP_FUNCTIONS: dict[str, Callable[[str, date], str]] = {
    "ingest": step_ingest,
    "validate_batches": step_validate_batches,
    "dbt_build": step_dbt_build,
    "publish": step_publish,
    "report_and_docs": step_report_and_docs,
}


def run_step_for_context(step: str, context: dict[str, Any]) -> str:
    """What each DAG task calls: the step, for the run and date the Airflow context names."""
    run_id, as_of = run_identity(context)
    progress.report(step, "started")
    try:
        result = STEP_FUNCTIONS[step](run_id, as_of)
    except BaseException as error:
        progress.report(step, "finished", status="failed", detail=_one_line(error)[:200])
        raise
    progress.report(step, "finished", status="succeeded", detail=_step_detail(step, result))
    return result


def _step_detail(step: str, result: str) -> str:
    """The first line of a step's summary, without the step's own name in front."""
    first = result.splitlines()[0] if result else ""
    return first.removeprefix(f"{step}: ").removeprefix("ingest: ")[:200]
