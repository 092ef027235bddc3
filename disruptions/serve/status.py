"""`disruptions status`: the ledger, quarantine, held batches, alerts and the last run.

Status must answer while the nightly run is busy, and needs no write access to the home.
It waits only briefly for a shared hold on the writer's lock and then reads the working
warehouse read-only; if a run holds the lock, it reads the `audit` schema of the last
publication instead and says so. While status holds the lock no writer runs, so a step
still recorded as `running` belongs to a process that died: it is shown as interrupted.
It never selects a quarantined `record`, so the rationale text cannot appear.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from disruptions.config import Settings
from disruptions.logs import printable
from disruptions.publish.marts import PUBLISHED_BATCH_STATUS
from disruptions.warehouse import BATCH_STATUS, WarehouseBusyError, reader_lock

LOCK_WAIT_SECONDS = 2.0
RECENT_BATCHES = 20
RECENT_ALERTS = 10
TOP_REASONS = 3
MAX_CELL_CHARS = 160


def status_report(settings: Settings) -> str:
    try:
        with reader_lock(settings, timeout_seconds=LOCK_WAIT_SECONDS):
            if not settings.warehouse_path.exists():
                return _nothing_yet(settings)
            try:
                con = duckdb.connect(str(settings.warehouse_path), read_only=True)
            except duckdb.Error as error:
                first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
                why = f"The working warehouse cannot be read ({printable(first_line, 200)})"
                return _report_from_publication(settings, why)
            with con:
                origin = f"Working warehouse: {settings.warehouse_path}"
                return _report(con, settings, origin, False, BATCH_STATUS)
    except WarehouseBusyError:
        return _report_from_publication(settings, "A pipeline run holds the working warehouse")


def _report_from_publication(settings: Settings, why: str) -> str:
    if not settings.published_path.exists():
        return f"{why}, and nothing has been published yet. Try again when the run ends."
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        origin = (
            f"{why}: showing the audit tables of the last publication "
            f"({settings.published_path}); anything since is not in them yet."
        )
        return _report(con, settings, origin, True, PUBLISHED_BATCH_STATUS)


def _nothing_yet(settings: Settings) -> str:
    return "\n".join(
        [
            f"No warehouse yet at {settings.warehouse_path}: nothing has been ingested.",
            f"Drop feed files in {settings.landing} and run `disruptions ingest` or "
            "`disruptions run`.",
        ]
    )


def _report(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    origin: str,
    writer_active: bool,
    batch_status: str,
) -> str:
    tables = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'audit'"
        ).fetchall()
    }
    schema, name = batch_status.split(".")
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchone()[0]
    batch_status = batch_status if found else None
    sections = [
        origin,
        _batches_section(con, tables),
        _rejected_files_section(con, tables),
        _waiting_section(con, tables),
        _quarantine_section(con, tables),
        _held_section(con, batch_status),
        _alerts_section(con, tables),
        _last_run_section(con, tables, writer_active),
        _outputs_section(settings),
    ]
    return "\n\n".join(sections)


def _cell(value) -> str:
    text = "" if value is None else printable(" ".join(str(value).split()))
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 3] + "..."


def format_table(headers: Sequence[str], rows: Sequence[Sequence]) -> str:
    """Plain aligned columns: readable in a terminal and in a log."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.extend(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )
    return "\n".join("  " + line for line in lines)


def _section(title: str, headers: Sequence[str], rows: list, empty: str) -> str:
    if not rows:
        return f"{title}\n  {empty}"
    return f"{title}\n{format_table(headers, rows)}"


def _batches_section(con: duckdb.DuckDBPyConnection, tables: set[str]) -> str:
    if "load_batches" not in tables:
        return "Batches\n  (no ledger)"
    totals = con.execute(
        "SELECT status, count(*) FROM audit.load_batches GROUP BY status ORDER BY status"
    ).fetchall()
    rows = con.execute(
        "SELECT batch_id, feed, source_file, status, rows_read, rows_loaded, rows_quarantined, "
        "message FROM audit.load_batches ORDER BY batch_id DESC LIMIT ?",
        [RECENT_BATCHES],
    ).fetchall()
    summary = ", ".join(f"{count} {status}" for status, count in totals) or "none"
    title = f"Batches ({summary}); latest {RECENT_BATCHES}:"
    headers = ["batch", "feed", "file", "status", "read", "loaded", "quarantined", "message"]
    return _section(title, headers, rows, "no files ingested yet")


def _rejected_files_section(con: duckdb.DuckDBPyConnection, tables: set[str]) -> str:
    """Rejected files stay listed after newer batches push them out of the ledger view."""
    if "load_batches" not in tables:
        return "Rejected files\n  (no ledger)"
    rows = con.execute(
        "SELECT batch_id, feed, started_at, message FROM audit.load_batches "
        "WHERE status = 'rejected_file' ORDER BY batch_id DESC LIMIT ?",
        [RECENT_BATCHES],
    ).fetchall()
    headers = ["batch", "feed", "seen_at (UTC)", "problem"]
    return _section(f"Rejected files (latest {RECENT_BATCHES}):", headers, rows, "none")


def _waiting_section(con: duckdb.DuckDBPyConnection, tables: set[str]) -> str:
    """Files a run left for a later one: a sender still writing, or a file that changed."""
    if "landing_waiting" not in tables:
        return "Files waiting to be loaded\n  (no waiting list)"
    rows = con.execute(
        "SELECT source_file, reason, first_seen_at, last_seen_at FROM audit.landing_waiting "
        "ORDER BY first_seen_at, source_file"
    ).fetchall()
    headers = ["file", "why", "first seen (UTC)", "last seen (UTC)"]
    title = "Files waiting to be loaded (the next run tries again):"
    return _section(title, headers, rows, "none")


def _quarantine_section(con: duckdb.DuckDBPyConnection, tables: set[str]) -> str:
    if "quarantine" not in tables:
        return "Quarantine\n  (no quarantine table)"
    # Only reasons are read: each names a column and a value, never the rationale.
    rows = con.execute(
        """
        WITH per_file AS (
            SELECT batch_id, source_file, count(*) AS records
            FROM audit.quarantine GROUP BY ALL
        ),
        reasons AS (
            SELECT batch_id, reason, count(*) AS times
            FROM (SELECT batch_id, unnest(string_split(reasons, '; ')) AS reason
                  FROM audit.quarantine)
            GROUP BY ALL
        ),
        ranked AS (
            SELECT batch_id, reason || ' (' || times || ')' AS reason_count,
                   row_number() OVER (PARTITION BY batch_id ORDER BY times DESC, reason) AS rank
            FROM reasons
        )
        SELECT p.batch_id, p.source_file, p.records,
               string_agg(r.reason_count, '; ' ORDER BY r.rank) AS common_reasons
        FROM per_file AS p LEFT JOIN ranked AS r ON r.batch_id = p.batch_id AND r.rank <= ?
        GROUP BY ALL ORDER BY p.batch_id DESC
        """,
        [TOP_REASONS],
    ).fetchall()
    headers = ["batch", "file", "records", f"most common reasons (top {TOP_REASONS})"]
    return _section("Quarantined records per file:", headers, rows, "none")


def _held_section(con: duckdb.DuckDBPyConnection, batch_status: str | None) -> str:
    """Held batches, awaiting review or discarded, by the batch-status model."""
    if batch_status is None:
        return "Held batches\n  (the batch-status model is not built yet: run `disruptions ingest`)"
    rows = con.execute(
        f"SELECT batch_id, feed, source_file, rows_loaded, batch_status, decided_at, "
        f"decided_by, message FROM {batch_status} "
        "WHERE batch_status IN ('held', 'discarded') ORDER BY batch_id"
    ).fetchall()
    headers = ["batch", "feed", "file", "rows", "standing", "decided_at", "by", "message"]
    title = "Held batches (`disruptions release BATCH` or `disruptions discard BATCH`):"
    return _section(title, headers, rows, "none")


def _alerts_section(con: duckdb.DuckDBPyConnection, tables: set[str]) -> str:
    if "dq_alerts" not in tables:
        return "Recent alerts\n  (no alerts table)"
    rows = con.execute(
        "SELECT alert_id, raised_at, severity, source, subject, message FROM audit.dq_alerts "
        "ORDER BY alert_id DESC LIMIT ?",
        [RECENT_ALERTS],
    ).fetchall()
    headers = ["alert", "raised_at (UTC)", "severity", "source", "subject", "message"]
    return _section(f"Recent alerts (latest {RECENT_ALERTS}):", headers, rows, "none")


def _last_run_section(con: duckdb.DuckDBPyConnection, tables: set[str], writer_active: bool) -> str:
    if "pipeline_runs" not in tables:
        return "Last run\n  (no run table)"
    # With no writer holding the warehouse, nothing can be running: the process died.
    rows = con.execute(
        """
        SELECT step,
               CASE WHEN status = 'running' AND NOT $writer_active
                    THEN 'interrupted' ELSE status END,
               as_of, started_at, finished_at,
               CASE WHEN status = 'running' AND NOT $writer_active
                    THEN 'no process is running it: killed, or the machine stopped; '
                         || 'the next run marks it failed'
                    ELSE message END
        FROM audit.pipeline_runs
        WHERE run_id = (SELECT arg_max(run_id, started_at) FROM audit.pipeline_runs)
        ORDER BY started_at
        """,
        {"writer_active": writer_active},
    ).fetchall()
    run_id = con.execute("SELECT arg_max(run_id, started_at) FROM audit.pipeline_runs").fetchone()[
        0
    ]
    headers = ["step", "status", "as_of", "started_at (UTC)", "finished_at (UTC)", "message"]
    return _section(f"Last run: {run_id or 'none'}", headers, rows, "no pipeline run yet")


def _where(path: Path) -> str:
    return f"{path}" + ("" if path.exists() else "  (not written yet)")


def _outputs_section(settings: Settings) -> str:
    from disruptions.engines import engine_for

    return "\n".join(
        [
            "Where things are:",
            f"  report:          {_where(settings.report_path)}",
            f"  load validation: {_where(settings.data_docs_dir / 'index.html')}",
            f"  dbt docs:        {_where(settings.dbt_docs_dir / 'index.html')}",
            f"  published marts: {engine_for(settings).published_location()}",
            f"  logs:            {_where(settings.logs_dir)}",
        ]
    )
