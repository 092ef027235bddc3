"""The embedded engine: the working DuckDB file is the warehouse, and readers open the
published files (publish/, serve/published.py). Nothing to start, nothing to load."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from disruptions.config import Settings
from disruptions.warehouse import open_warehouse


class DuckDBEngine:
    name = "duckdb"
    dbt_target = "duckdb"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def dbt_executable(self) -> Path:
        from disruptions.transform.dbt import dbt_executable

        return dbt_executable()

    def dbt_environment(self) -> dict[str, str]:
        return {
            "DISRUPTIONS_WAREHOUSE": str(self.settings.warehouse_path),
            "DISRUPTIONS_DUCKDB_MEMORY_LIMIT": self.settings.duckdb_memory_limit,
        }

    def dbt_vars(self) -> dict[str, Any]:
        return {}

    def schema(self, name: str) -> str:
        return name

    def load_validated_batches(self, run_id: str, as_of: date) -> dict[str, int]:
        # The batches are loaded where dbt reads them already; only the run context is new.
        from disruptions.transform.build import write_run_context

        with open_warehouse(self.settings) as con:
            write_run_context(con, run_id, as_of)
        return {}

    def build_state(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        return open_warehouse(self.settings)

    def published_location(self) -> str:
        path = self.settings.published_path
        return f"{path}" + ("" if path.exists() else "  (not written yet)")

    def publish(self, run_id: str) -> str:
        from disruptions.publish.marts import publish_marts

        return str(publish_marts(self.settings, run_id))

    def open_published(
        self, rocu: str | None = None, named_in: str | None = None
    ) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        # The published file holds every table already; nothing to choose.
        from disruptions.serve.published import open_published_file

        return open_published_file(self.settings, rocu)
