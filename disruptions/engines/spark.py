"""Spark, the distributed engine (DISRUPTIONS_ENGINE=spark; SPEC section 7).

Everything lives under DISRUPTIONS_SPARK_WAREHOUSE_DIR (default $DISRUPTIONS_HOME/spark),
which on a cluster must be the same path on every machine (a shared file system):

- `landed/raw/<feed>/batch-<id>-<sha256 prefix>.parquet`: each validated batch as one
  immutable Parquet file, written by the control plane (the working DuckDB file) and
  renamed into place whole, so a crash mid-load leaves no partial batch. `empty.parquet`
  beside them carries the table's columns when no batch has arrived yet.
- `landed/ledger/<table>/data.parquet`: the ledger dbt reads (load_batches,
  batch_decisions, run_context), replaced whole before every build.
- `tables/`: Spark's warehouse, where dbt-spark builds every model as a plain Parquet
  table (no Delta or Iceberg jars are installed, so the two incremental models are
  rebuilt in full; macros/spark.sql), registering the landed folders as tables first.
- `metastore/`: the embedded Derby metastore that names those tables (one dbt command at
  a time, as the writer lock ensures).

dbt's session method starts the Spark driver inside the dbt process, against
DISRUPTIONS_SPARK_MASTER (`local[2]`, or `spark://host:7077` for a standalone cluster).

Readers start no JVM: publication reads the marts Spark built, straight from their Parquet
files, into the control plane, and publishes the same DuckDB files as the embedded engine
(publish/), nationally and per ROCU, atomically. So query, export, explain, report and
status read Spark's marts exactly as they read DuckDB's.

The rationale is not copied into the landed files: it never leaves the control plane's
raw layer (its column stays, empty, so the sources match every engine).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from disruptions.config import PUBLIC_MARTS, Settings
from disruptions.engines.control_plane import (
    LEDGER_TABLES,
    RAW_FEEDS,
    batches_to_load,
    quote_ident,
    raw_feed_select,
)
from disruptions.errors import PipelineError, UserError
from disruptions.warehouse import open_warehouse

log = logging.getLogger(__name__)

# The landed tables' schemas, as macros/spark.sql registers them (ledger_schema()).
RAW_SCHEMA, LEDGER_SCHEMA = "raw", "ledger"
SCHEMA_CARRIER = "empty.parquet"
BATCH_FILE = re.compile(r"batch-(?P<batch_id>\d+)-(?P<sha256>[0-9a-f]{16})\.parquet")


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


class SparkEngine:
    name = "spark"
    dbt_target = "spark"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.spark_warehouse_dir or settings.home / "spark"
        self.landed = self.root / "landed"
        self.tables = self.root / "tables"
        self.metastore = self.root / "metastore"

    # --- dbt ------------------------------------------------------------------------------
    def dbt_executable(self) -> Path:
        dbt = self.settings.spark_dbt
        if dbt is None or not dbt.is_file():
            raise UserError(
                f"DISRUPTIONS_ENGINE=spark needs dbt with the Spark adapter, not found at {dbt}: "
                "run `make venv-spark`, or set DISRUPTIONS_SPARK_DBT"
            )
        return dbt

    def dbt_environment(self) -> dict[str, str]:
        for folder in (self.landed, self.tables, self.metastore):
            folder.mkdir(parents=True, exist_ok=True)
        env = {
            "DISRUPTIONS_SPARK_MASTER": self.settings.spark_master,
            "DISRUPTIONS_SPARK_LANDED": str(self.landed),
            "DISRUPTIONS_SPARK_WAREHOUSE": str(self.tables),
            "DISRUPTIONS_SPARK_METASTORE": str(self.metastore),
        }
        # A local session, or a cluster on this machine, talks over loopback; a driver
        # for a remote cluster must listen where its executors can reach it.
        if self.settings.spark_master.startswith(
            ("local", "spark://127.0.0.1", "spark://localhost")
        ):
            env["SPARK_LOCAL_IP"] = os.environ.get("SPARK_LOCAL_IP") or "127.0.0.1"
        return env

    def dbt_vars(self) -> dict[str, Any]:
        return {"type_string": "string"}

    def schema(self, name: str) -> str:
        return name

    # --- loading --------------------------------------------------------------------------
    def landed_batches(self, feed: str) -> dict[int, str]:
        """{batch_id: sha256 prefix} of the batch files landed for `feed`."""
        folder = self.landed / RAW_SCHEMA / feed
        found = {}
        for path in folder.glob("batch-*.parquet") if folder.is_dir() else ():
            match = BATCH_FILE.fullmatch(path.name)
            if match:
                found[int(match["batch_id"])] = match["sha256"]
        return found

    def load_validated_batches(self, run_id: str, as_of: date) -> dict[str, int]:
        """Land every batch not landed yet as its own Parquet file, then the ledger and the
        run context. Each file is written aside, its rows checked against the ledger's
        rows_loaded, and renamed into place, so a batch is there whole or not at all."""
        from disruptions.transform.build import write_run_context

        loaded = {"batches": 0, "rows": 0}
        with open_warehouse(self.settings) as duck:
            write_run_context(duck, run_id, as_of)
            ledger = batches_to_load(duck)
            present = {feed: self.landed_batches(feed) for feed in RAW_FEEDS}
            # Every landed batch must be the ledger's file before anything is written.
            for batch_id, feed, sha256, _ in ledger:
                landed = present[feed].get(batch_id)
                if landed is not None and landed != sha256[:16]:
                    raise PipelineError(
                        f"the Spark warehouse {self.root} holds batch {batch_id} from "
                        "another file than the control plane's ledger says (was the "
                        "working DuckDB file started again?): nothing loaded; land "
                        "into an empty DISRUPTIONS_SPARK_WAREHOUSE_DIR"
                    )
            for feed in RAW_FEEDS:
                folder = self.landed / RAW_SCHEMA / feed
                folder.mkdir(parents=True, exist_ok=True)
                select = raw_feed_select(duck, feed)
                self._write_file(duck, f"{select} WHERE false", folder / SCHEMA_CARRIER, 0)
                for batch_id, batch_feed, sha256, rows in ledger:
                    if batch_feed != feed or batch_id in present[feed]:
                        continue
                    name = f"batch-{batch_id}-{sha256[:16]}.parquet"
                    self._write_file(
                        duck, f"{select} WHERE batch_id = {int(batch_id)}", folder / name, rows
                    )
                    loaded["batches"] += 1
                    loaded["rows"] += rows
            for table in LEDGER_TABLES:
                folder = self.landed / LEDGER_SCHEMA / table
                folder.mkdir(parents=True, exist_ok=True)
                (count,) = duck.execute(f"SELECT count(*) FROM audit.{table}").fetchone()
                select = f"SELECT * FROM audit.{table}"
                self._write_file(duck, select, folder / "data.parquet", count)
        log.info("spark: landed %d batch(es), %d rows", loaded["batches"], loaded["rows"])
        return loaded

    @staticmethod
    def _write_file(duck: duckdb.DuckDBPyConnection, select: str, path: Path, rows: int) -> None:
        """Write `select` to `path` whole: aside first, then renamed in once its row count
        is the one expected."""
        aside = path.with_name(f".{path.name}.tmp")
        aside.unlink(missing_ok=True)
        duck.execute(f"COPY ({select}) TO {_sql_path(aside)} (FORMAT parquet)")
        (written,) = duck.execute(
            f"SELECT count(*) FROM read_parquet({_sql_path(aside)})"
        ).fetchone()
        if written != rows:
            aside.unlink(missing_ok=True)
            raise PipelineError(
                f"landing {path.name} for Spark wrote {written} rows where the ledger says "
                f"{rows}: not landed"
            )
        os.replace(aside, path)

    def build_state(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        # The build's pre-checks look for the incremental models' state. On Spark those
        # models are rebuilt in full every night (macros/spark.sql), so there is none:
        # the checks see an empty catalogue and ask for no full refresh.
        return _empty_catalogue()

    # --- publication ----------------------------------------------------------------------
    def mart_folder(self, mart: str) -> Path:
        # dbt-spark's managed tables: <warehouse>/<schema>.db/<table>/ (Hive's layout).
        return self.tables / "marts.db" / mart

    def published_location(self) -> str:
        path = self.settings.published_path
        suffix = "" if path.exists() else "  (not written yet)"
        return f"{path} (the marts Spark built under {self.tables}){suffix}"

    def publish(self, run_id: str) -> str:
        """Bring the marts Spark built into the control plane, in one transaction, then
        publish them like the embedded engine: the national and regional files, each
        atomically."""
        from disruptions.publish.marts import publish_marts

        with open_warehouse(self.settings) as duck:
            duck.begin()
            try:
                duck.execute("CREATE SCHEMA IF NOT EXISTS marts")
                for mart in PUBLIC_MARTS:
                    folder = self.mart_folder(mart)
                    if not any(folder.glob("*.parquet")):
                        raise PipelineError(
                            f"publish: Spark has not built marts.{mart} ({folder} holds no "
                            "Parquet file)"
                        )
                    duck.execute(
                        f"CREATE OR REPLACE TABLE marts.{quote_ident(mart)} AS "
                        + _mart_select(duck, folder)
                    )
                duck.commit()
            except BaseException:
                duck.rollback()
                raise
        return str(publish_marts(self.settings, run_id))

    def open_published(
        self, rocu: str | None = None, named_in: str | None = None
    ) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        # Spark's marts are published as the same DuckDB files as the embedded engine's.
        from disruptions.serve.published import open_published_file

        return open_published_file(self.settings, rocu)


def _mart_select(duck: duckdb.DuckDBPyConnection, folder: Path) -> str:
    """The mart's Parquet files as the contract types them. Spark's `timestamp` is an
    instant (Parquet's isAdjustedToUTC), which DuckDB reads as TIMESTAMPTZ; the contract's
    timestamp is UTC wall time, as the session wrote it."""
    files = _sql_path(folder / "*.parquet")
    described = duck.execute(f"DESCRIBE SELECT * FROM read_parquet({files})").fetchall()
    columns = [
        f"{quote_ident(name)} AT TIME ZONE 'UTC' AS {quote_ident(name)}"
        if data_type == "TIMESTAMP WITH TIME ZONE"
        else quote_ident(name)
        for name, data_type, *_ in described
    ]
    return f"SELECT {', '.join(columns)} FROM read_parquet({files})"


@contextmanager
def _empty_catalogue() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    try:
        yield con
    finally:
        con.close()
