"""dbt and Great Expectations, as the pipeline runs them, send nothing anywhere.

Every HTTP(S) client they use honours HTTPS_PROXY, so a loopback "proxy" that records
each connection attempt sees any telemetry call. The control test proves the probe works:
dbt run without our settings does try to phone home through it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from disruptions.config import DBT_PROJECT_DIR

pytestmark = pytest.mark.slow

PIPELINE_PIECES = """
import sys
from disruptions.config import load_settings
from disruptions.ingest import ingest_landing
from disruptions.transform.dbt import run_dbt
from disruptions.quality.batches import validate_new_batches

settings = load_settings()
ingest_landing(settings, "telemetry-probe")
validate_new_batches(settings, "telemetry-probe")
run_dbt(settings, "parse")
print("pieces ran")
"""


class RecordingProxy:
    """Accepts connections on loopback and records each request line, answering none."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(20)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.requests: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(2)
                try:
                    self.requests.append(connection.recv(4096).split(b"\r\n")[0])
                except OSError:
                    self.requests.append(b"(connection without a request line)")

    def environment(self) -> dict[str, str]:
        proxies = {name: self.url for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")}
        proxies.update({name.lower(): url for name, url in proxies.items()})
        return {**proxies, "NO_PROXY": "", "no_proxy": ""}

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def proxy():
    recorder = RecordingProxy()
    yield recorder
    recorder.close()


def test_ingest_validation_and_dbt_send_nothing_anywhere(settings, proxy):
    (settings.landing / "disruptions_probe.csv").write_text(
        "disruption_id,ocg_id,disruption_date,recorded_at,impact,strand,tactic,lead_agency,"
        "force_area,status\nD1,OCG-1,2026-01-01,2026-01-02,major,pursue,arrest,NCA,GMP,approved\n",
        encoding="utf-8",
    )
    # The analytics switches come from the pipeline itself, not from this environment.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DBT_", "GX_", "DO_NOT_TRACK"))
    }
    completed = subprocess.run(
        [sys.executable, "-c", PIPELINE_PIECES],
        env={**env, **proxy.environment()},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "pieces ran" in completed.stdout
    time.sleep(1)  # anything sent in the background would have arrived by now
    assert proxy.requests == []


def test_the_probe_sees_dbt_phone_home_when_its_tracking_is_on(tmp_path, proxy):
    env = {**os.environ, **proxy.environment(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "True"}
    env["DISRUPTIONS_WAREHOUSE"] = str(tmp_path / "probe.duckdb")
    dbt = Path(sys.executable).parent / "dbt"
    subprocess.run(
        [
            str(dbt),
            "parse",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        env=env,
        capture_output=True,
        timeout=300,
        check=True,
    )
    time.sleep(1)
    assert any(b"CONNECT" in request for request in proxy.requests), proxy.requests
