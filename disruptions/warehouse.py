"""The working warehouse: its tables, and the one-writer-at-a-time rule.

DuckDB allows a single writer process per file. Every step that writes (ingest,
validation, dbt, alerts, release/discard, publish) takes `writer_lock` first, so two
runs triggered at once queue instead of failing with a lock error. Readers never open
this file: they read the published copy (see publish.py).
"""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from disruptions.config import Settings

# The one batch-status model (dbt's stg_load_batches: ledger status, the steward's latest
# decision, batch_status and is_counted_in_marts), as Python reads it in the working
# warehouse. transform.reference has dbt build it before the first ingest.
BATCH_STATUS = "staging.stg_load_batches"

# Problems of the warehouse or the machine (a full disk, a lost database), not of one
# file or batch: they would fail every file alike, so they stop the step, which Airflow
# retries. Any other error while one file or batch is handled is that one's problem.
ENVIRONMENT_ERRORS = (duckdb.IOException, duckdb.FatalException, MemoryError)

# Lineage columns every raw table carries. Load order is (batch_id, line_number):
# batch ids come from a sequence, so a later file always has a larger id.
RAW_DISRUPTIONS_DDL = """
CREATE TABLE IF NOT EXISTS raw.disruptions (
    disruption_id   VARCHAR   NOT NULL,
    ocg_id          VARCHAR   NOT NULL,
    disruption_date DATE      NOT NULL,
    recorded_at     TIMESTAMP NOT NULL,  -- UTC
    impact          VARCHAR   NOT NULL,
    strand          VARCHAR   NOT NULL,
    tactic          VARCHAR   NOT NULL,
    lead_agency     VARCHAR   NOT NULL,
    force_area      VARCHAR   NOT NULL,
    status          VARCHAR   NOT NULL,
    operation       VARCHAR,
    rationale       VARCHAR,             -- sensitive: never selected beyond raw
    batch_id        BIGINT    NOT NULL,
    source_file     VARCHAR   NOT NULL,
    line_number     BIGINT    NOT NULL,
    loaded_at       TIMESTAMP NOT NULL
)
"""

RAW_OCG_ASSESSMENTS_DDL = """
CREATE TABLE IF NOT EXISTS raw.ocg_assessments (
    ocg_id             VARCHAR   NOT NULL,
    assessed_on        DATE      NOT NULL,
    threat_score       INTEGER   NOT NULL,
    band               VARCHAR   NOT NULL,
    status             VARCHAR   NOT NULL,
    archive_reason     VARCHAR,
    lead_force         VARCHAR   NOT NULL,
    principal_activity VARCHAR,
    member_count       INTEGER,
    batch_id           BIGINT    NOT NULL,
    source_file        VARCHAR   NOT NULL,
    line_number        BIGINT    NOT NULL,
    loaded_at          TIMESTAMP NOT NULL
)
"""

AUDIT_DDL = [
    "CREATE SEQUENCE IF NOT EXISTS audit.batch_id_seq START 1",
    "CREATE SEQUENCE IF NOT EXISTS audit.alert_id_seq START 1",
    """
    CREATE TABLE IF NOT EXISTS audit.load_batches (
        batch_id         BIGINT PRIMARY KEY,
        feed             VARCHAR,          -- NULL when the file name matches no feed
        source_file      VARCHAR NOT NULL, -- path relative to the landing folder
        sha256           VARCHAR,
        rows_read        BIGINT,
        rows_loaded      BIGINT,
        rows_quarantined BIGINT,
        status           VARCHAR NOT NULL, -- loaded | duplicate_file | rejected_file | held
        message          VARCHAR,
        started_at       TIMESTAMP NOT NULL,
        finished_at      TIMESTAMP,
        run_id           VARCHAR
    )
    """,
    """
    -- The status each landing file had when it was last hashed, so that the files seen on
    -- earlier nights are recognised without reading them again (see ingest/discovery.py).
    -- A cache: never published, and losing it only costs a re-hash.
    CREATE TABLE IF NOT EXISTS audit.landing_file_status (
        source_file  VARCHAR PRIMARY KEY,
        sha256       VARCHAR NOT NULL,
        device       UBIGINT NOT NULL,
        inode        UBIGINT NOT NULL,
        size         BIGINT NOT NULL,
        mtime_ns     BIGINT NOT NULL,
        ctime_ns     BIGINT NOT NULL,
        hashed_at_ns BIGINT NOT NULL
    )
    """,
    """
    -- Landing files a run had to leave for a later one (still being written, changed
    -- while being loaded), so that nobody waits on a file that never arrives unknowingly.
    CREATE TABLE IF NOT EXISTS audit.landing_waiting (
        source_file   VARCHAR PRIMARY KEY,
        reason        VARCHAR NOT NULL,
        first_seen_at TIMESTAMP NOT NULL,
        last_seen_at  TIMESTAMP NOT NULL,
        run_id        VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS audit.quarantine (
        batch_id    BIGINT  NOT NULL,
        source_file VARCHAR NOT NULL,
        line_number BIGINT,
        record      JSON,     -- the original values, as read
        reasons     VARCHAR   -- every reason, '; '-separated, readable by a person
    )
    """,
    # One row per batch validated by its feed suite. A batch with status 'loaded' and no
    # row here has not been validated yet (for example after a crash) and is picked up
    # by the next validation step.
    """
    CREATE TABLE IF NOT EXISTS audit.batch_validations (
        batch_id          BIGINT  NOT NULL,
        suite_name        VARCHAR NOT NULL,
        success           BOOLEAN NOT NULL,
        critical_failures INTEGER NOT NULL,
        warning_failures  INTEGER NOT NULL,
        validated_at      TIMESTAMP NOT NULL,
        run_id            VARCHAR,
        summary           JSON
    )
    """,
    # Every data test of every dbt build (quality/model_tests.py), for the report.
    """
    CREATE TABLE IF NOT EXISTS audit.dbt_test_results (
        run_id      VARCHAR,
        as_of       DATE,
        test_name   VARCHAR NOT NULL,
        test_type   VARCHAR, -- the generic test (unique, relationships, ...) or singular
        model       VARCHAR, -- the model or source the test is attached to
        column_name VARCHAR,
        severity    VARCHAR, -- error | warn
        status      VARCHAR NOT NULL, -- pass | warn | fail | error | skipped
        failures    BIGINT,
        message     VARCHAR,
        recorded_at TIMESTAMP NOT NULL
    )
    """,
    # The data steward's decision on a held batch: released or discarded.
    """
    CREATE TABLE IF NOT EXISTS audit.batch_decisions (
        batch_id   BIGINT  NOT NULL,
        decision   VARCHAR NOT NULL, -- released | discarded
        decided_at TIMESTAMP NOT NULL,
        decided_by VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS audit.dq_alerts (
        alert_id  BIGINT PRIMARY KEY,
        raised_at TIMESTAMP NOT NULL,
        run_id    VARCHAR,
        severity  VARCHAR NOT NULL, -- critical | warning
        source    VARCHAR NOT NULL, -- e.g. ingest, batch_validation, mart_validation, airflow
        subject   VARCHAR NOT NULL,
        message   VARCHAR NOT NULL,
        details   JSON
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS audit.alert_deliveries (
        alert_id     BIGINT  NOT NULL,
        channel      VARCHAR NOT NULL, -- email | webhook
        attempt      INTEGER NOT NULL,
        succeeded    BOOLEAN NOT NULL,
        error        VARCHAR,
        attempted_at TIMESTAMP NOT NULL
    )
    """,
    """
    -- The run the next dbt build is for: one row, written by transform.build before dbt
    -- runs, read by the as_of_date() macro (dbt_project/macros/as_of.sql).
    CREATE TABLE IF NOT EXISTS audit.run_context (
        as_of  DATE NOT NULL,
        run_id VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS audit.pipeline_runs (
        run_id      VARCHAR NOT NULL,
        as_of       DATE,
        step        VARCHAR NOT NULL,
        status      VARCHAR NOT NULL, -- running | success | failed
        started_at  TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        message     VARCHAR
    )
    """,
]


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw and audit tables if they do not exist. Safe to call every time."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    con.execute(RAW_DISRUPTIONS_DDL)
    con.execute(RAW_OCG_ASSESSMENTS_DDL)
    for statement in AUDIT_DDL:
        con.execute(statement)


# Locks this process already holds, by path, with their nesting depth: a step that holds
# the lock may call a helper (an alert, say) that asks for it again.
_held_locks: dict[str, int] = {}
_held_locks_guard = threading.Lock()


class WarehouseBusyError(RuntimeError):
    """Another writer held the warehouse for longer than the configured timeout."""


@contextmanager
def writer_lock(settings: Settings, timeout_seconds: float | None = None) -> Iterator[None]:
    """Hold the single-writer lock on the warehouse for the duration of the block.

    An OS file lock rather than DuckDB's own: DuckDB fails at once when another process
    writes, whereas this waits its turn. The kernel drops the lock if the holder dies.
    """
    settings.home.mkdir(parents=True, exist_ok=True)
    key = str(settings.writer_lock_path)
    with _held_locks_guard:
        if _held_locks.get(key):
            _held_locks[key] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _held_locks_guard:
                _held_locks[key] -= 1
        return
    timeout = settings.writer_lock_timeout_seconds if timeout_seconds is None else timeout_seconds
    with open(settings.writer_lock_path, "a+") as handle:
        _wait_for_lock(
            handle,
            fcntl.LOCK_EX,
            timeout,
            f"{settings.warehouse_path}: another run has held the warehouse "
            f"for more than {timeout:.0f}s",
        )
        with _held_locks_guard:
            _held_locks[key] = 1
        try:
            yield
        finally:
            with _held_locks_guard:
                _held_locks[key] = 0
            fcntl.flock(handle, fcntl.LOCK_UN)


def _wait_for_lock(handle, mode: int, timeout_seconds: float, busy_message: str) -> None:
    """Take an flock on the open lock file, polling, or raise WarehouseBusyError."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise WarehouseBusyError(busy_message) from None
            time.sleep(0.1)


@contextmanager
def reader_lock(settings: Settings, timeout_seconds: float) -> Iterator[None]:
    """Wait until no writer holds the warehouse, and keep writers out while the block reads.

    A shared lock on the writer's lock file, opened read-only: a reader needs no write
    access to the home. No lock file means no writer has ever run here.
    """
    try:
        handle = open(settings.writer_lock_path, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        yield
        return
    with handle:
        _wait_for_lock(
            handle,
            fcntl.LOCK_SH,
            timeout_seconds,
            f"{settings.warehouse_path}: a pipeline run holds the warehouse",
        )
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


INTERRUPTED_STEP = (
    "interrupted: the process running this step ended without recording how it ended "
    "(killed, or the machine stopped)"
)


def close_interrupted_steps(con: duckdb.DuckDBPyConnection) -> int:
    """Mark as failed every step still recorded as running. Call it holding the writer
    lock: a step holds the lock while it runs, so a writer that has the lock knows any
    step still `running` belongs to a process that died. Returns how many it closed."""
    return con.execute(
        "UPDATE audit.pipeline_runs SET status = 'failed', finished_at = now()::TIMESTAMP, "
        "message = ? WHERE status = 'running'",
        [INTERRUPTED_STEP],
    ).fetchone()[0]


@contextmanager
def open_warehouse(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """Take the writer lock, open the warehouse read-write and make sure its tables exist."""
    with writer_lock(settings):
        settings.home.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(settings.warehouse_path))
        try:
            # A runtime setting rather than connect(config=...): DuckDB refuses a second
            # connection to the same file in one process with a different configuration.
            con.execute("SET memory_limit = ?", [settings.duckdb_memory_limit])
            ensure_schema(con)
            yield con
        finally:
            con.close()
