"""publish_marts: what the published file holds, and that readers never see it half done.

Real DuckDB files throughout: a working warehouse built with the project's own DDL, a
publisher (sometimes killed with SIGKILL mid-publish, sometimes failing), and a reader in
another process reopening the published file read-only in a loop.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from disruptions.config import Settings
from disruptions.errors import PipelineError
from disruptions.publish.marts import PUBLISHED_AUDIT_TABLES, publish_marts
from disruptions.warehouse import open_warehouse

MART_ROWS = 200_000
MARTS = ("ocg_disruption_summary", "disruptions_monthly", "ocg_long_term_effect")


def build_warehouse(settings: Settings, version: int, rows: int = MART_ROWS) -> None:
    """A warehouse whose marts all carry `version`, so a reader can tell a mixed view."""
    with open_warehouse(settings) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        for mart in MARTS:
            con.execute(
                f"CREATE OR REPLACE TABLE marts.{mart} AS "
                f"SELECT 'OCG-' || i AS ocg_id, {version} AS version, i % 7 AS n, "
                "CASE WHEN i % 2 = 0 THEN 'EMSOU' ELSE 'NWROCU' END AS rocu "
                f"FROM range({rows}) t(i)"
            )
        con.execute("DELETE FROM raw.disruptions")
        con.execute(
            "INSERT INTO raw.disruptions VALUES ('D1', 'OCG-1', DATE '2026-01-02', "
            "TIMESTAMP '2026-01-03 10:00:00', 'major', 'pursue', 'ARREST', 'EMSOU', "
            "'DERBYS', 'approved', 'Op X', 'SECRET-RATIONALE-RAW', 1, 'f.csv', 2, now())"
        )
        con.execute("DELETE FROM audit.quarantine")
        con.execute(
            """
            INSERT INTO audit.quarantine VALUES
              (1, 'emsou/disruptions.csv', 3,
               '{"disruption_id": "D2", "impact": "huge", "rationale": "SECRET-1"}',
               'value not allowed: impact = huge'),
              (1, 'emsou/disruptions.csv', 4,
               '{"disruption_id": "D3", " Rationale ": "SECRET-2", "status": "x"}',
               'value not allowed: status = x'),
              (2, 'ocg_assessments.csv', 5, '{"ocg_id": "OCG-9", "band": "9Z"}',
               'value not allowed: band = 9Z')
            """
        )
        con.execute(
            "INSERT INTO audit.load_batches (batch_id, feed, source_file, status, started_at, "
            "run_id) VALUES (?, 'disruptions', 'emsou/disruptions.csv', 'loaded', now(), ?) "
            "ON CONFLICT DO NOTHING",
            [version, f"run-{version}"],
        )


def assert_only_the_published_files(settings: Settings) -> None:
    """The national file and the ten regional files, and no temporary file left over."""
    files = sorted(path for path in settings.published_dir.rglob("*") if path.is_file())
    regional = sorted(settings.regional_published_dir.glob("*.duckdb"))
    assert len(regional) == 10
    assert files == sorted([settings.published_path, *regional])


def published_tables(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
        ).fetchall()
        return {
            name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for (name,) in names
        }
    finally:
        con.close()


def test_publish_copies_every_mart_and_the_public_audit_tables_only(settings):
    build_warehouse(settings, version=1, rows=1000)

    path = publish_marts(settings, "run-1")

    assert path == settings.published_path
    tables = published_tables(path)
    assert {f"marts.{mart}" for mart in MARTS} <= tables.keys()
    assert {f"audit.{table}" for table in PUBLISHED_AUDIT_TABLES} <= tables.keys()
    assert all(tables[f"marts.{mart}"] == 1000 for mart in MARTS)
    assert not [name for name in tables if name.startswith("raw.")]
    assert "audit.alert_deliveries" not in tables
    assert tables["audit.quarantine"] == 3
    assert_only_the_published_files(settings)


def test_published_quarantine_keeps_each_record_but_never_its_rationale(settings):
    build_warehouse(settings, version=1, rows=10)

    path = publish_marts(settings, "run-1")

    con = duckdb.connect(str(path), read_only=True)
    records = con.execute(
        "SELECT line_number, record::VARCHAR FROM audit.quarantine ORDER BY line_number"
    ).fetchall()
    con.close()
    assert [line for line, _ in records] == [3, 4, 5]
    assert json.loads(records[0][1]) == {"disruption_id": "D2", "impact": "huge"}
    assert json.loads(records[1][1]) == {"disruption_id": "D3", "status": "x"}
    assert json.loads(records[2][1]) == {"ocg_id": "OCG-9", "band": "9Z"}
    raw_bytes = path.read_bytes()
    assert b"SECRET" not in raw_bytes
    assert b"ationale" not in raw_bytes


def test_failed_publish_keeps_the_previous_publication_and_removes_its_tmp_file(settings):
    build_warehouse(settings, version=1, rows=100)
    publish_marts(settings, "run-1")
    before = settings.published_path.read_bytes()
    with open_warehouse(settings) as con:
        con.execute("DROP SCHEMA marts CASCADE")

    with pytest.raises(PipelineError, match="no tables in schema marts"):
        publish_marts(settings, "run-2")

    assert settings.published_path.read_bytes() == before
    assert_only_the_published_files(settings)


def test_files_written_at_once_finish_or_clean_up_when_one_of_them_fails(settings):
    # The files are written several at a time; one that cannot be swapped in (a folder
    # squats its path) fails the publish, but every other file still ends whole and new,
    # and no temporary file is left behind by any of them.
    assert settings.publish_workers >= 1
    build_warehouse(settings, version=1, rows=1_000)
    publish_marts(settings, "run-1")
    blocked = settings.regional_published_path("EMSOU")
    blocked.unlink()
    blocked.mkdir()
    build_warehouse(settings, version=2, rows=1_000)

    with pytest.raises(OSError):
        publish_marts(settings, "run-2")

    blocked.rmdir()
    leftovers = [path.name for path in settings.published_dir.rglob("*.tmp-*")]
    assert leftovers == []
    others = [settings.published_path] + [
        path for path in settings.regional_published_dir.glob("*.duckdb") if path != blocked
    ]
    assert len(others) == 10
    for path in others:
        con = duckdb.connect(str(path), read_only=True)
        try:
            versions = con.execute(
                "SELECT DISTINCT version FROM marts.ocg_disruption_summary"
            ).fetchall()
        finally:
            con.close()
        assert versions in ([(2,)], []), (path.name, versions)
    # EMSOU is the seed's first ROCU: the region after it with OCGs still got its new rows.
    nwrocu = published_tables(settings.regional_published_path("NWROCU"))
    assert nwrocu["marts.ocg_disruption_summary"] == 500


PUBLISH_SCRIPT = textwrap.dedent(
    """
    import sys
    from disruptions.config import load_settings
    from disruptions.publish.marts import publish_marts
    publish_marts(load_settings(), sys.argv[1])
    """
)


def test_publish_killed_midway_leaves_the_previous_file_and_the_next_run_cleans_up(settings):
    build_warehouse(settings, version=1)
    publish_marts(settings, "run-1")
    build_warehouse(settings, version=2)
    publisher = subprocess.Popen([sys.executable, "-c", PUBLISH_SCRIPT, "run-2"])
    # Kill it once its temporary copy exists, i.e. in the middle of writing it.
    deadline = time.monotonic() + 30
    while not list(settings.published_dir.glob("*.tmp-*")) and time.monotonic() < deadline:
        time.sleep(0.005)
    publisher.send_signal(signal.SIGKILL)
    publisher.wait()
    assert publisher.returncode == -signal.SIGKILL
    assert list(settings.published_dir.glob("*.tmp-run-2*")), "killed before writing its copy"

    con = duckdb.connect(str(settings.published_path), read_only=True)
    assert con.execute("SELECT DISTINCT version FROM marts.ocg_disruption_summary").fetchall() == [
        (1,)
    ]
    con.close()

    publish_marts(settings, "run-3")
    assert_only_the_published_files(settings)


READER_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import duckdb
    path, stop_file, out = sys.argv[1], sys.argv[2], sys.argv[3]
    marts = sys.argv[4].split(",")
    audit = sys.argv[5].split(",")
    seen, errors, reads = set(), [], 0
    import os
    while not os.path.exists(stop_file):
        try:
            con = duckdb.connect(path, read_only=True)
            try:
                versions = set()
                for mart in marts:
                    count, lo, hi = con.execute(
                        f"SELECT count(*), min(version), max(version) FROM marts.{mart}"
                    ).fetchone()
                    if count != int(sys.argv[6]) or lo != hi:
                        errors.append(f"{mart}: {count} rows, versions {lo}..{hi}")
                    versions.add(lo)
                if len(versions) != 1:
                    errors.append(f"marts from different runs: {sorted(versions)}")
                for table in audit:
                    con.execute(f"SELECT count(*) FROM audit.{table}").fetchone()
                seen.update(versions)
                reads += 1
            finally:
                con.close()
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}")
    json.dump({"reads": reads, "errors": errors[:20], "seen": sorted(seen)}, open(out, "w"))
    """
)


@pytest.mark.slow
def test_reader_never_sees_an_error_or_a_half_written_file_while_runs_succeed_and_fail(
    settings, tmp_path
):
    build_warehouse(settings, version=0)
    publish_marts(settings, "run-0")
    stop_file, out = tmp_path / "stop", tmp_path / "reader.json"
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            READER_SCRIPT,
            str(settings.published_path),
            str(stop_file),
            str(out),
            ",".join(MARTS),
            ",".join(PUBLISHED_AUDIT_TABLES),
            str(MART_ROWS),
        ]
    )
    rng = random.Random(2015)
    outcomes = []
    try:
        for version in range(1, 13):
            build_warehouse(settings, version=version)
            outcome = ("succeed", "kill", "fail")[version % 3]
            if outcome == "succeed":
                publish_marts(settings, f"run-{version}")
            elif outcome == "kill":
                publisher = subprocess.Popen(
                    [sys.executable, "-c", PUBLISH_SCRIPT, f"run-{version}"]
                )
                time.sleep(rng.uniform(0.5, 2.0))
                publisher.send_signal(signal.SIGKILL)
                publisher.wait()
            else:
                with open_warehouse(settings) as con:
                    con.execute("DROP SCHEMA marts CASCADE")
                with pytest.raises(PipelineError):
                    publish_marts(settings, f"run-{version}")
            outcomes.append(outcome)
    finally:
        stop_file.touch()
        reader.wait(timeout=60)
    result = json.loads(out.read_text())

    assert result["errors"] == []
    assert result["reads"] > 20
    assert len(result["seen"]) >= 3, result
    # Only versions from publishes that completed (never a failed run's) were ever seen.
    succeeded = {0} | {v for v, o in zip(range(1, 13), outcomes, strict=True) if o == "succeed"}
    killed = {v for v, o in zip(range(1, 13), outcomes, strict=True) if o == "kill"}
    assert set(result["seen"]) <= succeeded | killed
    failed = {v for v, o in zip(range(1, 13), outcomes, strict=True) if o == "fail"}
    assert not set(result["seen"]) & failed
    # The last run succeeded, and cleaned up after the killed ones.
    assert outcomes[-1] == "succeed"
    assert_only_the_published_files(settings)
