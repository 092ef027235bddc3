"""Property: whatever a sender drops in the landing folder, every file ends loaded, held,
rejected or duplicate with a message; rows_read = rows_loaded + rows_quarantined; the
rationale appears in no published file, report, page, log or alert; and the good files
beside the hostile ones are still published."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import RUN_EXAMPLES
from hostile_strategies import SENTINEL, hostile_landing
from hypothesis import given
from hypothesis import settings as hypothesis_settings

from disruptions.config import load_settings
from disruptions.ingest import ingest_landing
from disruptions.quality.batches import validate_new_batches
from disruptions.warehouse import open_warehouse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cli"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "alerts"))
from alert_loopback import WebhookServer  # noqa: E402
from hostile_files import good_files  # noqa: E402

DISRUPTIONS = str(Path(sys.executable).parent / "disruptions")
FINAL_STATUSES = {"loaded", "held", "rejected_file", "duplicate_file"}
GOOD_OCGS = {"OCG-GOOD-1", "OCG-GOOD-2"}


def fill_landing(landing: Path, hostile: list[tuple[str, bytes]]) -> set[str]:
    """Write the good files and the hostile ones; return every file's ledger name."""
    names = set()
    for relative, content in good_files().items():
        path = landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        names.add(relative)
    for name, content in hostile:
        (landing / "hostile").mkdir(parents=True, exist_ok=True)
        (landing / "hostile" / name).write_bytes(content)
        names.add(f"hostile/{name}")
    return names


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def check_ledger(con: duckdb.DuckDBPyConnection, names: set[str], statuses: set[str]) -> None:
    ledger = con.execute(
        "SELECT source_file, status, message, rows_read, rows_loaded, rows_quarantined "
        "FROM audit.load_batches"
    ).fetchall()
    assert {row[0] for row in ledger} == names
    assert len(ledger) == len(names), "a file was recorded twice"
    for source_file, status, message, read, loaded, quarantined in ledger:
        assert status in statuses, (source_file, status)
        assert message, source_file
        if status in ("loaded", "held"):
            assert read == loaded + quarantined, (source_file, read, loaded, quarantined)
        if status == "rejected_file":
            assert source_file in message


@given(hostile=hostile_landing())
def test_ingest_and_batch_validation_record_every_hostile_file(tmp_path_factory, hostile):
    home = tmp_path_factory.mktemp("fuzz-ingest")
    settings = dataclasses.replace(
        load_settings(home=home, landing=home / "landing"), landing_settle_seconds=0
    )
    names = fill_landing(settings.landing, hostile)
    logs = Collected()
    logging.getLogger("disruptions").addHandler(logs)
    try:
        ingest_landing(settings, "fuzz")
        validate_new_batches(settings, "fuzz")
    finally:
        logging.getLogger("disruptions").removeHandler(logs)
    with open_warehouse(settings) as con:
        check_ledger(con, names, FINAL_STATUSES)
        alerts = str(
            con.execute("SELECT subject, message, details FROM audit.dq_alerts").fetchall()
        )
        good = con.execute(
            "SELECT count(*) FROM raw.disruptions d JOIN audit.load_batches b USING (batch_id) "
            "WHERE b.status = 'loaded' AND d.ocg_id IN ('OCG-GOOD-1', 'OCG-GOOD-2')"
        ).fetchone()[0]
    assert good == 2
    assert SENTINEL not in str(alerts)
    assert not any(SENTINEL in line for line in logs.lines)
    shutil.rmtree(home, ignore_errors=True)


def published_text(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables")
        return "\n".join(
            str(con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall())
            for schema, table in tables.fetchall()
        )
    finally:
        con.close()


@pytest.mark.slow
@hypothesis_settings(max_examples=RUN_EXAMPLES)
@given(hostile=hostile_landing())
def test_a_whole_night_with_hostile_files_still_publishes_the_good_ones(tmp_path_factory, hostile):
    home = tmp_path_factory.mktemp("fuzz-run")
    names = fill_landing(home / "landing", hostile)
    with WebhookServer() as webhook:
        env = {
            key: value
            for key, value in __import__("os").environ.items()
            if not key.startswith(("DISRUPTIONS_", "AIRFLOW"))
        }
        env.update(
            {
                "DISRUPTIONS_HOME": str(home),
                "DISRUPTIONS_LANDING_SETTLE_SECONDS": "0",
                "DISRUPTIONS_ALERT_WEBHOOK_URL": webhook.url,
                "DISRUPTIONS_ALERT_RETRY_DELAY_SECONDS": "0.05",
            }
        )
        completed = subprocess.run(
            [DISRUPTIONS, "run", "--as-of", "2026-11-01"],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    output = completed.stdout + completed.stderr
    assert "Traceback" not in output
    assert completed.returncode == 0, output
    published = home / "published" / "disruptions.duckdb"
    con = duckdb.connect(str(published), read_only=True)
    try:
        check_ledger(con, names, FINAL_STATUSES)
        ocgs = {
            row[0]
            for row in con.execute("SELECT ocg_id FROM marts.ocg_disruption_summary").fetchall()
        }
    finally:
        con.close()
    assert ocgs >= GOOD_OCGS
    assert SENTINEL not in published_text(published)
    assert SENTINEL not in str(webhook.requests)
    for folder in ("reports", "logs"):
        for path in (home / folder).rglob("*"):
            if path.is_file():
                assert SENTINEL.encode() not in path.read_bytes(), path
    shutil.rmtree(home, ignore_errors=True)
