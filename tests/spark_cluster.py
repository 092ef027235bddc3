"""A throwaway Spark standalone cluster, a master and one worker, started from pyspark's own
`spark-class` on loopback, for the tests of the spark engine. pyspark comes from the spark
engine's own virtualenv (requirements-spark.lock, `make venv-spark`), Java from Debian;
`make test` installs both."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from postgres_server import free_port

from disruptions.config import load_settings

# The spark engine's dbt, and the pyspark beside it in its virtualenv.
SPARK_DBT = load_settings().spark_dbt
_FOUND = sorted(SPARK_DBT.parent.parent.glob("lib/python*/site-packages/pyspark/bin/spark-class"))
SPARK_HOME = _FOUND[-1].parent.parent if _FOUND else None
JAVA = shutil.which("java")
MISSING = "the spark engine's virtualenv or Java is missing: make venv-spark system-deps"
AVAILABLE = bool(SPARK_HOME and JAVA and SPARK_DBT.is_file())


def _wait_for(log: Path, text: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.25)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"Spark did not log {text!r} within {timeout:.0f} s:\n{tail}")


@contextlib.contextmanager
def spark_cluster(root: Path, cores: int = 2, memory: str = "2g") -> Iterator[str]:
    """Start a master and a worker on 127.0.0.1; yield the master's spark:// URL; stop
    both afterwards."""
    root.mkdir(parents=True, exist_ok=True)
    env = os.environ.copy()
    env.update(SPARK_HOME=str(SPARK_HOME), SPARK_LOCAL_IP="127.0.0.1", SPARK_LOG_DIR=str(root))
    spark_class = str(SPARK_HOME / "bin" / "spark-class")
    port = free_port()
    url = f"spark://127.0.0.1:{port}"
    commands = {
        "master": [spark_class, "org.apache.spark.deploy.master.Master"]
        + ["--host", "127.0.0.1", "--port", str(port), "--webui-port", str(free_port())],
        "worker": [spark_class, "org.apache.spark.deploy.worker.Worker", url]
        + ["--host", "127.0.0.1", "--cores", str(cores), "--memory", memory]
        + ["--webui-port", str(free_port()), "--work-dir", str(root / "work")],
    }
    ready = {"master": "I have been elected leader", "worker": "Successfully registered"}
    processes = []
    try:
        for name, command in commands.items():
            log = root / f"{name}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            processes.append(process)
            _wait_for(log, ready[name], process)
        yield url
    finally:
        for process in reversed(processes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
