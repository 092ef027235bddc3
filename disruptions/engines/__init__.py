"""The one engine interface: the only code that knows which engine holds the warehouse.

Whatever the engine, landing files are parsed, checked, ledgered and validated the same
way, in the embedded DuckDB working file (ingest/, quality/): it is the pipeline's
control plane, with the ledger of record, the alerts and the run history. An engine
(DISRUPTIONS_ENGINE, SPEC section 7) is where the validated batches go and where dbt
builds, tests and publishes the marts:

- `duckdb` (engines/duckdb.py): the working file itself; published files for readers;
- `postgres` (engines/postgres.py): the shared national warehouse; batches copied in by
  COPY, published by a schema swap, readers as roles with row-level security per ROCU;
- `spark` (engines/spark.py): the distributed engine; batches landed as immutable Parquet
  files that dbt-spark registers as tables, marts published as the embedded engine's
  DuckDB files, so readers start no JVM.

Every step asks `engine_for(settings)` for the pieces that differ: loading the batches,
the dbt target, where dbt built a model, the connection the build checks read, the
publication and the read side used by query, export, report and explain.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import duckdb

from disruptions.config import Settings


class Engine(Protocol):
    name: str
    # The output of dbt_project/profiles.yml that builds on this engine.
    dbt_target: str

    def dbt_executable(self) -> Path:
        """The dbt that has this engine's adapter."""

    def dbt_environment(self) -> dict[str, str]:
        """Environment variables dbt's profile reads for this engine (connection details)."""

    def dbt_vars(self) -> dict[str, Any]:
        """dbt vars that name this engine's types in the model contracts (constant per
        engine, so dbt's partial parse survives from night to night)."""

    def schema(self, name: str) -> str:
        """The schema where dbt built its schema `name` (staging, intermediate, marts...)."""

    def load_validated_batches(self, run_id: str, as_of: date) -> dict[str, int]:
        """Bring the engine up to date with the control plane before dbt runs: the rows of
        every batch not yet there, the ledger dbt reads and the run context. All or
        nothing: a crash leaves no partial batch."""

    def build_state(self) -> AbstractContextManager[Any]:
        """A connection on which the build's pre-checks run (qmark parameters,
        .execute(...).fetchone()/.fetchall())."""

    def published_location(self) -> str:
        """Where readers find the published marts, for people (no password)."""

    def publish(self, run_id: str) -> str:
        """Publish the marts for readers atomically; return where."""

    def open_published(
        self, rocu: str | None = None, named_in: str | None = None
    ) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """The published marts as a reader sees them (a ROCU's rows only with `rocu`),
        as a DuckDB connection with schemas marts, audit and reference, and no access
        to any file. `named_in` (a query's text) lets an engine that must copy the
        tables bring only those the text names."""


def engine_for(settings: Settings) -> Engine:
    if settings.engine == "postgres":
        from disruptions.engines.postgres import PostgresEngine

        return PostgresEngine(settings)
    if settings.engine == "spark":
        from disruptions.engines.spark import SparkEngine

        return SparkEngine(settings)
    from disruptions.engines.duckdb import DuckDBEngine

    return DuckDBEngine(settings)


def open_published(
    settings: Settings, rocu: str | None = None, named_in: str | None = None
) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
    """What every reader (query, export, explain, report) opens."""
    return engine_for(settings).open_published(rocu, named_in)


__all__ = ["Engine", "engine_for", "open_published"]
