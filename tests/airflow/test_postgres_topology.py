"""The docker-compose topology without Docker: a real PostgreSQL cluster (Debian's binaries)
on loopback for Airflow's metadata, `airflow db migrate` against it, and the api-server,
scheduler (LocalExecutor) and dag-processor as separate processes, running the real
nightly DAG on a tiny synthetic sample to success.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import postgres_server  # tests/ is on sys.path
import psycopg2
import pytest

from disruptions.config import DAGS_DIR
from disruptions.pipeline import STEPS

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
RUN_TIMEOUT_SECONDS = 240

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not postgres_server.PG_BIN, reason=postgres_server.MISSING),
]


@contextlib.contextmanager
def postgres_cluster() -> Iterator[str]:
    """A throwaway cluster on a free loopback port; yields the Airflow connection URL."""
    with postgres_server.postgres_cluster(superuser="airflow") as port:
        con = psycopg2.connect(host="127.0.0.1", port=port, user="airflow", dbname="postgres")
        con.autocommit = True
        con.cursor().execute("CREATE DATABASE airflow")
        con.close()
        yield f"postgresql+psycopg2://airflow@127.0.0.1:{port}/airflow"


@contextlib.contextmanager
def services(commands: dict[str, list[str]], env: dict, log_dir: Path) -> Iterator[dict]:
    """Start each Airflow component in its own process group; stop them all afterwards."""
    started: dict[str, subprocess.Popen] = {}
    try:
        for name, command in commands.items():
            log = open(log_dir / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
            started[name] = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        yield started
    finally:
        for process in started.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in started.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_for(predicate, timeout: float, what: str, processes: dict, log_dir: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                tail = (log_dir / f"{name}.log").read_text()[-3000:]
                pytest.fail(
                    f"{name} exited with {process.returncode} while waiting for {what}:\n{tail}"
                )
        value = predicate()
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


def api_healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=2
        ) as response:
            return response.status == 200
    except OSError:
        return False


def query(url: str, sql: str, params=()) -> list[tuple]:
    dsn = url.replace("postgresql+psycopg2://", "postgresql://")
    con = psycopg2.connect(dsn)
    try:
        with con.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    finally:
        con.close()


RUN_TYPES = "SELECT run_type FROM dag_run"
EXECUTORS = "SELECT DISTINCT executor FROM task_instance"


def scheduled_night(
    settings, tmp_path: Path, executor: str, extra_env: dict, workers: dict
) -> dict:
    """Start the api-server, then the scheduler, the dag-processor and `workers`, on a
    throwaway metadata cluster; wait for the DAG's real scheduled run; return what the
    metadata says about it."""
    from disruptions.synth import generate_feeds

    generate_feeds(settings.landing, ocgs=30, disruptions=300, layout="single")
    airflow_home = tmp_path / "airflow"
    airflow_home.mkdir()
    api_port = postgres_server.free_port()
    with postgres_cluster() as metadata_url:
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
            "AIRFLOW__CORE__EXECUTOR": executor,
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API_AUTH__JWT_SECRET": "test-only-jwt-secret-" + os.urandom(8).hex(),
            "AIRFLOW__API__SECRET_KEY": "test-only-secret-" + os.urandom(8).hex(),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "DISRUPTIONS_HOME": str(settings.home),
            "DISRUPTIONS_LANDING": str(settings.landing),
            "DISRUPTIONS_TASK_RETRIES": "0",
            **extra_env(metadata_url),
        }
        subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True)
        log_dir = tmp_path / "service-logs"
        log_dir.mkdir()
        # The api-server first: task processes report to its execution API.
        with services(
            {"api-server": [AIRFLOW, "api-server", "--port", str(api_port), "--workers", "1"]},
            env,
            log_dir,
        ) as api_server:
            wait_for(
                lambda: api_healthy(api_port),
                90,
                "the api-server to answer",
                api_server,
                log_dir,
            )
            commands = {
                "scheduler": [AIRFLOW, "scheduler"],
                "dag-processor": [AIRFLOW, "dag-processor"],
                **workers,
            }
            with services(commands, env, log_dir) as processes:
                processes = {**api_server, **processes}

                # Unpaused at creation with catchup off, the DAG's latest 02:00 London run
                # is scheduled as soon as the dag-processor has serialised it: the real
                # schedule, not a manual trigger.
                def finished():
                    rows = query(
                        metadata_url,
                        "SELECT state FROM dag_run WHERE dag_id = 'disruptions_nightly'",
                    )
                    return rows and rows[0][0] in ("success", "failed") and rows[0][0]

                state = wait_for(finished, RUN_TIMEOUT_SECONDS, "the DAG run", processes, log_dir)
                return {
                    "state": state,
                    "tasks": dict(
                        query(
                            metadata_url,
                            "SELECT task_id, state FROM task_instance "
                            "WHERE dag_id = 'disruptions_nightly'",
                        )
                    ),
                    "run_types": {
                        row[0] for row in query(metadata_url, "SELECT run_type FROM dag_run")
                    },
                    "executors": {
                        row[0]
                        for row in query(
                            metadata_url, "SELECT DISTINCT executor FROM task_instance"
                        )
                    },
                    "logs": {name: (log_dir / f"{name}.log").read_text() for name in commands},
                }


def test_scheduler_with_local_executor_on_postgres_runs_the_nightly_dag(settings, tmp_path):
    night = scheduled_night(settings, tmp_path, "LocalExecutor", lambda _: {}, {})
    assert night["state"] == "success", night["tasks"]
    assert set(night["tasks"].values()) == {"success"}
    assert len(night["tasks"]) == len(STEPS)
    assert night["run_types"] == {"scheduled"}
    assert night["executors"] <= {None, "LocalExecutor"}
    assert settings.published_path.exists()
    assert settings.report_path.exists()


@pytest.mark.skipif(
    not shutil.which("redis-server"), reason="redis-server missing: make system-deps"
)
def test_two_celery_workers_run_the_nightly_dag_on_the_postgres_engine(settings, tmp_path):
    """The docker-compose `celery` profile without Docker: Redis as the broker, PostgreSQL
    for Airflow's metadata and as the warehouse engine, two Celery workers."""
    redis_port = postgres_server.free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    warehouse_url: dict[str, str] = {}

    def celery_and_engine(metadata_url: str) -> dict:
        # The warehouse beside the metadata, in its own database, written by a login
        # that is no superuser, as in a real deployment.
        password = os.urandom(12).hex()
        admin = psycopg2.connect(metadata_url.replace("postgresql+psycopg2://", "postgresql://"))
        admin.autocommit = True
        admin.cursor().execute(f"CREATE ROLE pipeline LOGIN CREATEROLE PASSWORD '{password}'")
        admin.cursor().execute("CREATE DATABASE disruptions OWNER pipeline")
        admin.close()
        port = metadata_url.rsplit(":", 1)[1].split("/")[0]
        warehouse_url["url"] = f"postgresql://pipeline:{password}@127.0.0.1:{port}/disruptions"
        return {
            "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+"
            + metadata_url.replace("postgresql+psycopg2://", "postgresql://"),
            "DISRUPTIONS_ENGINE": "postgres",
            "DISRUPTIONS_POSTGRES_URL": warehouse_url["url"],
        }

    workers = {
        f"worker-{n}": [AIRFLOW, "celery", "worker", "--concurrency", "1"]
        + ["--celery-hostname", f"worker{n}@%h", "--without-mingle", "--without-gossip"]
        for n in (1, 2)
    }
    try:
        night = scheduled_night(settings, tmp_path, "CeleryExecutor", celery_and_engine, workers)
    finally:
        redis.terminate()
        redis.wait(timeout=10)
    assert night["state"] == "success", night["tasks"]
    assert set(night["tasks"].values()) == {"success"}
    assert len(night["tasks"]) == len(STEPS)
    assert night["executors"] <= {None, "CeleryExecutor"}
    for worker in workers:
        assert " ready." in night["logs"][worker], f"{worker} never came up"
    # Every task ran once, on one of the two workers.
    executed = re.findall(
        r"Executing workload in Celery: .*?task_id='(\w+)'",
        "\n".join(night["logs"][worker] for worker in workers),
    )
    assert sorted(executed) == sorted(STEPS)
    # The engine, not a DuckDB file, holds what was published.
    assert not settings.published_path.exists()
    assert settings.report_path.exists()
