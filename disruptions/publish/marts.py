"""Atomic publication of the marts and a read-only copy of the audit tables.

Readers (the query CLI, the report, BI tools) only ever open
`$DISRUPTIONS_HOME/published/disruptions.duckdb`, read-only. The new copy is built beside
it under a temporary name, made durable, checked, and then swapped in with `os.replace`,
which is atomic on POSIX: a reader sees either the old file or the new one, never a half
written one, and a reader that already holds the old file keeps a consistent view of it.
A run that fails before the swap leaves the previous publication untouched.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from pathlib import Path

import duckdb

from disruptions.config import Settings
from disruptions.errors import PipelineError
from disruptions.feeds import is_public_record_key
from disruptions.reference import SEEDS
from disruptions.warehouse import BATCH_STATUS, open_warehouse

log = logging.getLogger(__name__)

# The audit tables readers may see. raw.* never leaves the warehouse, and neither does
# audit.alert_deliveries (delivery errors can name mail servers and webhook hosts).
PUBLISHED_AUDIT_TABLES = (
    "load_batches",
    "quarantine",
    "batch_validations",
    "batch_decisions",
    "dbt_test_results",
    "dq_alerts",
    "pipeline_runs",
)
# The batch-status model, as published: readers see each batch's standing the way the
# models counted it.
PUBLISHED_BATCH_STATUS = "audit.batch_status"

_PUBLISHED_CATALOG = "published_copy"


def _tmp_path_for(settings: Settings, run_id: str) -> Path:
    safe_run = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)[:120] or "run"
    return settings.published_path.with_name(f"{settings.published_path.name}.tmp-{safe_run}")


def _remove_file_and_wal(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()


def _remove_stale_tmp_files(settings: Settings) -> None:
    """Drop half-built copies left by runs that died mid-publish (we hold the writer lock,
    so no other publisher is using them)."""
    pattern = f"{settings.published_path.name}.tmp-*"
    for stale in settings.published_dir.glob(pattern):
        log.info("removing stale publication file %s", stale)
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _warehouse_tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    rows = con.execute(
        """
        SELECT table_name FROM information_schema.tables
        WHERE table_catalog = current_database() AND table_schema = ?
        ORDER BY table_name
        """,
        [schema],
    ).fetchall()
    return [name for (name,) in rows]


def _public_record(con: duckdb.DuckDBPyConnection) -> tuple[str, dict[str, str]]:
    """SQL (and its parameters) for the quarantined `record` as it may be published: the
    feeds' own columns only (feeds.PUBLIC_RECORD_COLUMNS), so never the rationale and
    never a sender's extra free-text column.

    A JSON merge patch with a null value deletes that key. The keys are collected first
    and judged by feeds.normalise_column_name, the same test ingest used to read them,
    because the record keeps the sender's spelling ("Rationale", "\trationale").
    """
    keys = con.execute(
        """
        SELECT DISTINCT unnest(json_keys(record)) FROM audit.quarantine
        WHERE record IS NOT NULL AND json_type(record) = 'OBJECT'
        """
    ).fetchall()
    dropped = [key for (key,) in keys if not is_public_record_key(key)]
    if not dropped:
        return "record", {}
    patch = ", ".join(f"$dropped_{i}, NULL" for i in range(len(dropped)))
    sql = (
        "CASE WHEN record IS NOT NULL AND json_type(record) = 'OBJECT' "
        f"THEN json_merge_patch(record, json_object({patch})) ELSE record END"
    )
    return sql, {f"dropped_{i}": key for i, key in enumerate(dropped)}


def _copy_into(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Copy marts and the public audit tables into the attached copy; return row counts."""
    mart_tables = _warehouse_tables(con, "marts")
    if not mart_tables:
        raise PipelineError(
            "publish: the warehouse has no tables in schema marts (has dbt built them?)"
        )
    target = _PUBLISHED_CATALOG
    con.execute(f"CREATE SCHEMA {target}.marts")
    con.execute(f"CREATE SCHEMA {target}.audit")
    con.execute(f"CREATE SCHEMA {target}.reference")
    counts: dict[str, int] = {}
    for table in mart_tables:
        con.execute(
            f"CREATE TABLE {target}.marts.{_quote(table)} AS SELECT * FROM marts.{_quote(table)}"
        )
        counts[f"marts.{table}"] = con.execute(
            f"SELECT count(*) FROM {target}.marts.{_quote(table)}"
        ).fetchone()[0]
    for table in PUBLISHED_AUDIT_TABLES:
        select, parameters = f"SELECT * FROM audit.{table}", {}
        if table == "quarantine":
            record, parameters = _public_record(con)
            select = (
                "SELECT batch_id, source_file, line_number, "
                f"CAST({record} AS JSON) AS record, reasons FROM audit.quarantine"
            )
        con.execute(f"CREATE TABLE {target}.audit.{table} AS {select}", parameters)
        counts[f"audit.{table}"] = con.execute(
            f"SELECT count(*) FROM {target}.audit.{table}"
        ).fetchone()[0]
    copies = {PUBLISHED_BATCH_STATUS: BATCH_STATUS}
    # Names, orders, labels and colours for readers (reference.read_reference).
    copies.update({f"reference.{seed}": f"reference.{seed}" for seed in SEEDS})
    for published, source in copies.items():
        con.execute(f"CREATE TABLE {target}.{published} AS SELECT * FROM {source}")
        counts[published] = con.execute(f"SELECT count(*) FROM {target}.{published}").fetchone()[0]
    return counts


def _verify_copy(path: Path, expected: dict[str, int]) -> None:
    """Reopen the finished copy as a reader would and check every table is there, whole."""
    reader = duckdb.connect(str(path), read_only=True)
    try:
        for qualified, rows in expected.items():
            schema, table = qualified.split(".", 1)
            found = reader.execute(f"SELECT count(*) FROM {schema}.{_quote(table)}").fetchone()[0]
            if found != rows:
                raise PipelineError(
                    f"publish: {path.name} has {found} rows in {qualified}, expected {rows}"
                )
    finally:
        reader.close()


def publish_marts(settings: Settings, run_id: str) -> Path:
    """Publish every mart plus the public audit tables to the live file, atomically."""
    settings.published_dir.mkdir(parents=True, exist_ok=True)
    tmp_path = _tmp_path_for(settings, run_id)
    with open_warehouse(settings) as con:
        _remove_stale_tmp_files(settings)
        try:
            con.execute(f"ATTACH $path AS {_PUBLISHED_CATALOG}", {"path": str(tmp_path)})
            try:
                counts = _copy_into(con)
                con.execute(f"CHECKPOINT {_PUBLISHED_CATALOG}")
            finally:
                con.execute(f"DETACH {_PUBLISHED_CATALOG}")
            _fsync_file(tmp_path)
            _verify_copy(tmp_path, counts)
            os.replace(tmp_path, settings.published_path)
            _fsync_directory(settings.published_dir)
        except BaseException:
            _remove_file_and_wal(tmp_path)
            raise
    log.info(
        "published %s (%d marts, run %s)",
        settings.published_path,
        sum(1 for name in counts if name.startswith("marts.")),
        run_id,
    )
    return settings.published_path
