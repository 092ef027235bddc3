"""Writing a published file atomically, whatever it holds.

Readers only ever open published files, read-only. Each new file is built beside the live
one under a temporary name, made durable, reopened and checked as a reader would, and then
swapped in with `os.replace`, which is atomic on POSIX: a reader sees either the old file
or the new one, never a half-written one, and a reader that already holds the old file
keeps a consistent view of it. A failure before the swap leaves the live file untouched.

When its plan has tables with a key (the big marts), the new file starts as a copy of the
live one and those tables are brought up to date row by row (incremental.py); every other
table is copied whole, as in a new file.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from disruptions.errors import PipelineError
from disruptions.publish.incremental import (
    DigestSlice,
    quote,
    start_from_live_copy,
    sync_table,
)

log = logging.getLogger(__name__)

# Each file being written is attached under its own catalog name, so that several can be
# written at once on one connection.
_CATALOG_NUMBERS = itertools.count()


@dataclass(frozen=True)
class Copy:
    """One table of a published file: schema.table, filled by `select` on the warehouse."""

    schema: str
    table: str
    select: str
    parameters: dict = field(default_factory=dict)
    # The columns that identify a row, for a table brought up to date row by row.
    key: tuple[str, ...] = ()
    # Its rows' hashes, computed once for every file (incremental.build_digest), if any.
    digest: DigestSlice | None = None


def _tmp_path(path: Path, run_id: str) -> Path:
    safe_run = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)[:120] or "run"
    return path.with_name(f"{path.name}.tmp-{safe_run}")


def _remove_file_and_wal(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()


def remove_stale_tmp_files(folder: Path) -> None:
    """Drop half-built copies left by runs that died mid-publish (the caller holds the
    writer lock, so no other publisher is using them)."""
    for stale in folder.glob("*.duckdb.tmp-*"):
        log.info("removing stale publication file %s", stale)
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


def _fsync(path: Path, flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _verify(path: Path, expected: dict[str, int]) -> None:
    """Reopen the finished copy as a reader would and check every table is there, whole."""
    reader = duckdb.connect(str(path), read_only=True)
    try:
        for qualified, rows in expected.items():
            schema, table = qualified.split(".", 1)
            found = reader.execute(f"SELECT count(*) FROM {schema}.{quote(table)}").fetchone()[0]
            if found != rows:
                raise PipelineError(
                    f"publish: {path.name} has {found} rows in {qualified}, expected {rows}"
                )
    finally:
        reader.close()


def write_published_file(
    con: duckdb.DuckDBPyConnection, path: Path, plan: list[Copy], run_id: str
) -> dict[str, int]:
    """Build `path` from `plan` on the warehouse connection `con`, then swap it in
    atomically. Returns each table's row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = _tmp_path(path, run_id)
    _remove_file_and_wal(tmp_path)
    catalog = f"published_copy_{next(_CATALOG_NUMBERS)}"
    try:
        from_live = any(copy.key for copy in plan) and start_from_live_copy(path, tmp_path)
        con.execute(f"ATTACH $path AS {catalog}", {"path": str(tmp_path)})
        try:
            counts = {}
            for schema in dict.fromkeys(copy.schema for copy in plan):
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {catalog}.{schema}")
            if from_live:
                _drop_tables_not_in(con, catalog, plan)
            for copy in plan:
                target = f"{catalog}.{copy.schema}.{quote(copy.table)}"
                rows = None
                if from_live and copy.key:
                    rows = sync_table(
                        con, target, copy.select, copy.parameters, copy.key, copy.digest
                    )
                if rows is None:
                    con.execute(f"DROP TABLE IF EXISTS {target}")
                    con.execute(f"CREATE TABLE {target} AS {copy.select}", copy.parameters)
                    rows = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
                counts[f"{copy.schema}.{copy.table}"] = rows
            con.execute(f"CHECKPOINT {catalog}")
        finally:
            con.execute(f"DETACH {catalog}")
        _fsync(tmp_path)
        _verify(tmp_path, counts)
        os.replace(tmp_path, path)
        _fsync(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    except BaseException:
        _remove_file_and_wal(tmp_path)
        raise
    return counts


def _drop_tables_not_in(con: duckdb.DuckDBPyConnection, catalog: str, plan: list[Copy]) -> None:
    """A file copied from the live one keeps only the tables its plan names."""
    planned = {(copy.schema, copy.table) for copy in plan}
    for schema, table in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = ?",
        [catalog],
    ).fetchall():
        if (schema, table) not in planned:
            con.execute(f"DROP TABLE {catalog}.{quote(schema)}.{quote(table)}")


def write_published_files(
    con: duckdb.DuckDBPyConnection,
    files: list[tuple[Path, list[Copy]]],
    run_id: str,
    workers: int,
) -> list[dict[str, int]]:
    """`write_published_file` for each (path, plan), `workers` at a time, each on its own
    cursor of `con`; returns their row counts in the order given.

    Why in parallel: writing a file (compressing and checkpointing its tables) leaves a
    core idle, and the regional files are many small writes. Each file is still swapped in
    on its own, atomically; if one fails, the others still finish (or clean up) before
    the first error is raised, so no half-built file is left behind.
    """

    def write(path_and_plan: tuple[Path, list[Copy]]) -> dict[str, int]:
        path, plan = path_and_plan
        cursor = con.cursor()
        try:
            return write_published_file(cursor, path, plan, run_id)
        finally:
            cursor.close()

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(write, item) for item in files]
    errors = [future.exception() for future in futures if future.exception() is not None]
    if errors:
        raise errors[0]
    return [future.result() for future in futures]
