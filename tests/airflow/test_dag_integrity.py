"""The nightly DAG as Airflow's own DagBag sees it, parsed in a fresh interpreter.

A fresh interpreter, because Airflow reads its configuration once at import, and because
the parse time that matters is the dag-processor's: a cold parse of the file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest

from disruptions.config import DAGS_DIR

PARSE_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import airflow  # Airflow's own start-up is not the DAG file's parse time
    from airflow.dag_processing.dagbag import DagBag
    before = set(sys.modules)
    started = time.perf_counter()
    bag = DagBag(dag_folder=sys.argv[1])
    parse_seconds = time.perf_counter() - started
    heavy = sorted(
        name for name in set(sys.modules) - before
        if name.split(".")[0] in {"duckdb", "dbt", "great_expectations", "pandas", "pyarrow"}
    )
    dag = bag.dags.get("disruptions_nightly")
    tasks = {}
    if dag is not None:
        for task in dag.tasks:
            tasks[task.task_id] = {
                "retries": task.retries,
                "retry_delay": task.retry_delay.total_seconds(),
                "retry_exponential_backoff": float(task.retry_exponential_backoff or 0),
                "owner": task.owner,
                "on_failure_callback": [
                    cb.__qualname__ for cb in (task.on_failure_callback or [])
                ],
                "upstream": sorted(task.upstream_task_ids),
            }
    print(json.dumps({
        "import_errors": {k: str(v) for k, v in bag.import_errors.items()},
        "dag_ids": sorted(bag.dags),
        "parse_seconds": parse_seconds,
        "heavy_modules": sorted({name.split(".")[0] for name in heavy}),
        "schedule": getattr(dag.timetable, "expression", None) if dag else None,
        "timetable": type(dag.timetable).__name__ if dag else None,
        "timezone": str(dag.timetable.timezone) if dag else None,
        "dag_timezone": str(dag.timezone) if dag else None,
        "catchup": dag.catchup if dag else None,
        "max_active_runs": dag.max_active_runs if dag else None,
        "max_active_tasks": dag.max_active_tasks if dag else None,
        "tags": sorted(dag.tags) if dag else None,
        "tasks": tasks,
    }))
    """
)


@pytest.fixture(scope="module")
def parsed(tmp_path_factory):
    airflow_home = tmp_path_factory.mktemp("airflow_home")
    env = {
        "PATH": "/usr/bin:/bin",
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
    }
    completed = subprocess.run(
        [sys.executable, "-c", PARSE_SCRIPT, str(DAGS_DIR / "disruptions_nightly.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_dag_imports_without_errors(parsed):
    assert parsed["import_errors"] == {}
    assert parsed["dag_ids"] == ["disruptions_nightly"]


def test_dag_parses_in_under_two_seconds_without_heavy_imports(parsed):
    assert parsed["parse_seconds"] < 2.0, parsed["parse_seconds"]
    assert parsed["heavy_modules"] == []


def test_dag_runs_nightly_at_two_in_the_morning_london_time(parsed):
    assert parsed["timetable"] == "CronTriggerTimetable"
    assert parsed["schedule"] == "0 2 * * *"
    assert parsed["timezone"] == "Europe/London"
    assert parsed["dag_timezone"] == "Europe/London"
    assert parsed["catchup"] is False


def test_dag_is_a_single_writer(parsed):
    assert parsed["max_active_runs"] == 1
    assert parsed["max_active_tasks"] == 1


def test_dag_has_tags_and_an_owner_on_every_task(parsed):
    assert {"disruptions", "dbt"} <= set(parsed["tags"])
    owners = {task["owner"] for task in parsed["tasks"].values()}
    assert owners == {"disruptions-data-engineering"}


def test_steps_run_in_the_nightly_order(parsed):
    order = [
        "ingest",
        "validate_batches",
        "dbt_build",
        "publish",
        "report_and_docs",
    ]
    tasks = parsed["tasks"]
    assert set(tasks) == set(order)
    for upstream, downstream in zip(order, order[1:], strict=False):
        assert tasks[downstream]["upstream"] == [upstream]
    assert tasks["ingest"]["upstream"] == []


def test_transient_steps_retry_with_exponential_backoff_and_validation_never_retries(parsed):
    tasks = parsed["tasks"]
    for step in ("ingest", "dbt_build", "publish"):
        assert tasks[step]["retries"] >= 2, step
        assert tasks[step]["retry_exponential_backoff"] > 1, step
        assert tasks[step]["retry_delay"] >= timedelta(minutes=1).total_seconds(), step
    for step in ("validate_batches",):
        assert tasks[step]["retries"] == 0, step


def test_every_task_alerts_on_failure(parsed):
    for task_id, task in parsed["tasks"].items():
        assert task["on_failure_callback"] == ["alert_on_failure"], task_id
