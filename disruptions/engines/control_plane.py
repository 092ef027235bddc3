"""What an engine that holds its own copy of the batches reads from the control plane (the
working DuckDB file): the same rows, ledger and redaction for PostgreSQL and Spark."""

from __future__ import annotations

import duckdb

RAW_FEEDS = ("disruptions", "ocg_assessments")
# The control plane's ledger tables dbt reads (staging/__sources.yml, source `audit`).
LEDGER_TABLES = ("load_batches", "batch_decisions", "run_context")
# Columns no engine receives: sent as NULL, so the sources keep one shape everywhere.
NEVER_COPIED = {"rationale"}


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def batches_to_load(duck: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str, int]]:
    """(batch_id, feed, sha256, rows_loaded) of every batch whose rows are in raw.*,
    counted or held (a held batch's rows may be released later), in load order."""
    return duck.execute(
        "SELECT batch_id, feed, sha256, rows_loaded FROM audit.load_batches "
        "WHERE status IN ('loaded', 'held') AND feed IN ('disruptions', "
        "'ocg_assessments') ORDER BY batch_id"
    ).fetchall()


def raw_feed_select(duck: duckdb.DuckDBPyConnection, feed: str) -> str:
    """SELECT of raw.<feed>'s columns in order, each NEVER_COPIED one as NULL; no WHERE."""
    columns = [
        name
        for (name,) in duck.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = ? ORDER BY ordinal_position",
            [feed],
        ).fetchall()
    ]
    listed = ", ".join(
        f"CAST(NULL AS VARCHAR) AS {quote_ident(c)}" if c in NEVER_COPIED else quote_ident(c)
        for c in columns
    )
    return f"SELECT {listed} FROM raw.{feed}"
