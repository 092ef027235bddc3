"""The nightly run: ingest, validate batches, dbt build (models and their tests), publish, report.

Wiring only. Every task calls one `disruptions.pipeline.step_*` function, imported when
the task runs, so that parsing this file (which the dag-processor does every 30 s) never
imports dbt, Great Expectations or DuckDB.

Single writer: DuckDB allows one writing process per file, so the DAG runs one task and
one run at a time, and every step also takes the warehouse's OS file lock (which covers
`disruptions run` and other processes started outside this Airflow).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, CronTriggerTimetable, dag, task
from airflow.sdk.exceptions import AirflowFailException

from disruptions.config import SCHEDULED_HOUR, TIMEZONE, task_retries
from disruptions.errors import PipelineError
from disruptions.feeds import EARLIEST_DISRUPTION_DATE

# Steps that can fail for passing reasons (a file still being written, the warehouse
# lock held past its timeout, a disk briefly full) retry with exponential backoff.
# Validation failures never retry: the data will not change by waiting.
# `disruptions run` sets DISRUPTIONS_TASK_RETRIES=0: someone is waiting at the terminal
# and re-runs; a retry there would only sit out its backoff before failing the same way.
TRANSIENT_RETRIES = {
    "retries": task_retries(2),
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=20),
}
NO_RETRIES = {"retries": 0}

PUBLISHED_MARTS = Asset(name="disruptions_published_marts", uri="file:///disruptions/published")


def alert_on_failure(context):
    """Failed tasks alert through the same path as data-quality failures."""
    from disruptions.quality.alerts import airflow_failure_callback

    airflow_failure_callback(context)


class StepFailed(AirflowFailException, PipelineError):
    """An expected failure (bad data, failed validation): fail the task without retrying,
    and keep `alert_raised` so the failure callback does not alert twice."""


def run_step(step: str) -> str:
    """Run one pipeline step for this task's run; expected failures fail without retrying."""
    from airflow.sdk import get_current_context

    from disruptions.errors import UserError
    from disruptions.pipeline import run_step_for_context

    try:
        return run_step_for_context(step, get_current_context())
    except (PipelineError, UserError) as error:
        raise StepFailed(str(error), alert_raised=getattr(error, "alert_raised", False)) from error


@dag(
    dag_id="disruptions_nightly",
    description=(
        "Load and validate the feeds, build and test the marts, publish and report "
        "ROCU disruption outcomes"
    ),
    schedule=CronTriggerTimetable(f"0 {SCHEDULED_HOUR} * * *", timezone=TIMEZONE),
    # As early as any as_of can be, so that a backfill to any date runs its tasks.
    start_date=pendulum.datetime(
        EARLIEST_DISRUPTION_DATE.year,
        EARLIEST_DISRUPTION_DATE.month,
        EARLIEST_DISRUPTION_DATE.day,
        tz=TIMEZONE,
    ),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=1,
    tags=["disruptions", "rocu", "duckdb", "dbt", "great-expectations"],
    default_args={
        "owner": "disruptions-data-engineering",
        "depends_on_past": False,
        "on_failure_callback": alert_on_failure,
        **NO_RETRIES,
    },
    doc_md=__doc__,
)
def disruptions_nightly():
    @task(**TRANSIENT_RETRIES)
    def ingest() -> str:
        return run_step("ingest")

    @task
    def validate_batches() -> str:
        return run_step("validate_batches")

    @task(**TRANSIENT_RETRIES)
    def dbt_build() -> str:
        return run_step("dbt_build")

    @task(outlets=[PUBLISHED_MARTS], **TRANSIENT_RETRIES)
    def publish() -> str:
        return run_step("publish")

    @task
    def report_and_docs() -> str:
        return run_step("report_and_docs")

    (ingest() >> validate_batches() >> dbt_build() >> publish() >> report_and_docs())


disruptions_nightly()
