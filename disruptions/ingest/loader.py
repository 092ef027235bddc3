"""Landing folder → raw.* tables, with the load ledger and the quarantine.

Each file is one transaction: its ledger row, its raw rows and its quarantine rows
commit together or not at all, so a crash mid-load leaves nothing behind and the next
run loads the file again from scratch. Parsing and validation are set-based in DuckDB
(see readers.py and rules.py); nothing here loops over records.

Which files are (re)considered:
- a file whose path and sha256 are already in the ledger was seen before: skipped quietly;
- a file whose sha256 was already loaded (or held) under any name: `duplicate_file`;
- anything else is read. A file that was rejected and is sent again with the same bytes
  under a new name is read again (and most likely rejected again, with a new alert);
  a corrected file has a new sha256 and is simply loaded.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from disruptions import progress
from disruptions.config import Settings
from disruptions.errors import UserError, describe_unexpected
from disruptions.ingest.discovery import (
    Fingerprint,
    LandingFile,
    current_status,
    discover_landing_files,
    open_for_fingerprint,
    settled_files,
    status_proves_unchanged,
    unchanged_since,
)
from disruptions.ingest.readers import (
    FileSource,
    UnreadableFile,
    count_lines,
    describe_read_error,
    file_parameters,
    file_source,
    line_number_map_sql,
)
from disruptions.ingest.rules import (
    AllowedValues,
    checked_records_sql,
    load_reference_values,
    placeholder_column_values,
    raw_column_values,
    reference_parameters,
)
from disruptions.logs import printable
from disruptions.transform.reference import ensure_reference_tables
from disruptions.warehouse import ENVIRONMENT_ERRORS, open_warehouse

log = logging.getLogger(__name__)

# DuckDB errors that mean "this file is not valid as its format".
FILE_READ_ERRORS = (duckdb.InvalidInputException, duckdb.ConversionException)


@dataclass
class FileResult:
    batch_id: int
    feed: str | None
    source_file: str
    status: str  # loaded | duplicate_file | rejected_file
    rows_read: int | None
    rows_loaded: int | None
    rows_quarantined: int | None
    message: str


@dataclass
class IngestSummary:
    batches: list[FileResult] = field(default_factory=list)
    # Files not recorded this run, with why (seen before, still being written, ...).
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for result in self.batches if result.status == status)

    def rows(self, column: str) -> int:
        return sum(getattr(result, column) or 0 for result in self.batches)

    @property
    def waiting(self) -> list[tuple[str, str]]:
        """Skipped files that a later run will load: not yet in the ledger."""
        return [(source, why) for source, why in self.skipped if why in WAITING_REASONS]

    def __str__(self) -> str:
        if not self.batches and not self.skipped:
            return "ingest: no files in the landing folder"
        lines = [
            f"ingest: {len(self.batches)} new file(s): {self.count('loaded')} loaded, "
            f"{self.count('duplicate_file')} duplicate, {self.count('rejected_file')} rejected; "
            f"{len(self.skipped)} skipped; {self.rows('rows_loaded'):,} rows loaded, "
            f"{self.rows('rows_quarantined'):,} quarantined"
        ]
        for r in self.batches:
            message = printable(r.message.removeprefix(f"{r.source_file}: "))
            lines.append(
                f"  batch {r.batch_id} {r.status:<14} {printable(r.source_file)}: {message}"
            )
        lines.extend(f"  skipped {printable(source)}: {why}" for source, why in self.skipped)
        return "\n".join(lines)


# Why a file may be skipped now and loaded by a later run (audit.landing_waiting).
STILL_WRITTEN = "still being written"
CHANGED_WHILE_LOADED = "changed while being loaded"
DISAPPEARED = "disappeared before it was read"
WAITING_REASONS = (STILL_WRITTEN, CHANGED_WHILE_LOADED, DISAPPEARED)


def utc_now() -> datetime:
    """Naive UTC, like every TIMESTAMP in the warehouse."""
    return datetime.now(UTC).replace(tzinfo=None)


class FileChanged(Exception):
    """The file changed between fingerprinting and the end of its load."""


class KnownBytes(Exception):
    """The ledger already has the file's bytes: under its own path (`original` None), or
    loaded or held as another batch (`original` = that batch's id and file)."""

    def __init__(self, original: tuple[int, str] | None = None):
        super().__init__(original)
        self.original = original


def ingest_landing(settings: Settings, run_id: str) -> IngestSummary:
    """Load every new file in the landing folder. Bad files never raise: they are recorded."""
    landing = settings.landing
    if not landing.is_dir():
        raise UserError(f"{landing}: landing folder does not exist (set DISRUPTIONS_LANDING)")
    summary = IngestSummary()
    files, still_written = settled_files(
        discover_landing_files(landing), settings.landing_settle_seconds
    )
    for landing_file in still_written:
        log.info("%s is still being written; it will be picked up later", landing_file.relative)
        summary.skipped.append((landing_file.relative, STILL_WRITTEN))
    ensure_reference_tables(settings)
    with open_warehouse(settings) as con, tempfile.TemporaryDirectory() as alias_dir:
        # TIMESTAMPTZ casts convert offsets to UTC, and values without one are taken as UTC.
        con.execute("SET TimeZone = 'UTC'")
        # Records are numbered by their position in the insert (_insert_in_file_order).
        con.execute("SET preserve_insertion_order = true")
        reference = load_reference_values(con)
        rows = 0
        for index, landing_file in enumerate(files):
            progress.report(
                "ingest", "progress", files_done=index, files_total=len(files), rows=rows
            )
            loader = FileLoader(settings, con, run_id, reference, Path(alias_dir), index)
            recorded = len(summary.batches)
            loader.ingest(landing_file, summary)
            rows += sum(result.rows_read or 0 for result in summary.batches[recorded:])
        if files:
            progress.report(
                "ingest", "progress", files_done=len(files), files_total=len(files), rows=rows
            )
        record_waiting_files(con, summary.waiting, run_id)
    return summary


def record_waiting_files(
    con: duckdb.DuckDBPyConnection, waiting: list[tuple[str, str]], run_id: str
) -> None:
    """Keep audit.landing_waiting to the files this run had to leave for a later one, so
    that the run's summary and `disruptions status` show them (a file a sender never
    finishes writing would otherwise be invisible)."""
    files = [source for source, _ in waiting]
    con.begin()
    try:
        con.execute(
            "DELETE FROM audit.landing_waiting WHERE NOT list_contains($files, source_file)",
            {"files": files},
        )
        if waiting:
            con.execute(
                """
                INSERT INTO audit.landing_waiting
                    (source_file, reason, first_seen_at, last_seen_at, run_id)
                SELECT unnest($files), unnest($reasons), $now, $now, $run_id
                ON CONFLICT (source_file) DO UPDATE SET
                    reason = excluded.reason, last_seen_at = excluded.last_seen_at,
                    run_id = excluded.run_id
                """,
                {
                    "files": files,
                    "reasons": [reason for _, reason in waiting],
                    "now": utc_now(),
                    "run_id": run_id,
                },
            )
        con.commit()
    except BaseException:
        con.rollback()
        raise


@dataclass
class FileLoader:
    settings: Settings
    con: duckdb.DuckDBPyConnection
    run_id: str
    reference: dict[str, AllowedValues]
    alias_dir: Path
    index: int
    # The file's sha256 once known, for the ledger row of a file an error rejects.
    _sha256: str | None = field(default=None, init=False)

    def ingest(self, landing_file: LandingFile, summary: IngestSummary) -> None:
        """Load, reject or skip one file. Nothing in a file stops the files after it: an
        error no rule foresaw rejects this file, with an alert, and the run goes on."""
        started_at = utc_now()
        try:
            self._ingest(landing_file, summary, started_at)
        except ENVIRONMENT_ERRORS:
            raise
        except Exception as error:
            self._rollback_if_open()
            where = describe_unexpected(error)
            log.error("%s: unexpected error while loading: %s", landing_file.relative, where)
            problem = (
                f"could not be loaded: unexpected {type(error).__name__} "
                "(the code path is in logs/pipeline.log); nothing of it was loaded"
            )
            self._record_refused(landing_file, self._sha256, problem, started_at, summary)

    def _rollback_if_open(self) -> None:
        with contextlib.suppress(duckdb.Error):  # raised when no transaction is open
            self.con.rollback()

    def _ingest(self, landing_file: LandingFile, summary: IngestSummary, started_at) -> None:
        if landing_file.real_path is None:
            self._record_refused(landing_file, None, landing_file.problem, started_at, summary)
            return
        if self._seen_unchanged(landing_file):
            summary.skipped.append((landing_file.relative, "already in the ledger"))
            return
        try:
            opened = open_for_fingerprint(landing_file.real_path)
        except FileNotFoundError:
            summary.skipped.append((landing_file.relative, DISAPPEARED))
            return
        except OSError as error:  # e.g. permissions: someone must fix it, so say so
            problem = f"cannot be opened: {error.strerror}"
            self._record_refused(landing_file, None, problem, started_at, summary)
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") as hashing:
            pending = hashing.submit(opened.read_all)
            try:
                self._record(landing_file, opened.status.size, pending.result, started_at, summary)
            except Exception:
                # ingest() records the file as rejected: with its sha256, so that the same
                # bytes are not read again every night.
                with contextlib.suppress(Exception):
                    self._sha256 = pending.result().sha256
                raise
            prints = pending.result()
        if self._already_recorded(landing_file.relative, prints.sha256):
            self._remember_status(landing_file, prints)

    def _record(
        self,
        landing_file: LandingFile,
        size: int,
        wait_for_prints: Callable[[], Fingerprint],
        started_at,
        summary: IngestSummary,
    ) -> None:
        """Load the file, or record why not: already in the ledger, refused, duplicate.

        The file is being hashed on another thread. A file that is most likely new bytes
        is loaded meanwhile, so the hash (3.8 s of CPU for 3 GB) runs on a core the load
        leaves free; the ledger is checked against its sha256 inside the load's
        transaction, before it commits. (On two cores the load keeps both busy, and the
        overlap saved about 0.5 s of 26 s at 10M rows.) Any other file is hashed first, so
        that bytes the ledger may already have cost a hash and not a load.
        """
        try:
            if not self._may_load_while_hashing(landing_file, size):
                prints = wait_for_prints()
                self._sha256 = prints.sha256
                if self._already_recorded(landing_file.relative, prints.sha256):
                    raise KnownBytes()
                if landing_file.problem:
                    raise UnreadableFile(landing_file.problem)
                self._raise_if_known(landing_file, prints)
            summary.batches.append(self._load(landing_file, wait_for_prints, started_at))
        except KnownBytes as known:
            if known.original is None:
                summary.skipped.append((landing_file.relative, "already in the ledger"))
                return
            batch_id, source_file = known.original
            message = f"same content as batch {batch_id} ({source_file}); nothing loaded"
            summary.batches.append(
                self._record_batch(
                    landing_file, self._sha256, "duplicate_file", message, started_at
                )
            )
        except UnreadableFile as problem:
            sha256 = wait_for_prints().sha256
            self._record_refused(landing_file, sha256, str(problem), started_at, summary)
        except FileChanged:
            log.warning("%s changed while being loaded; retrying next run", landing_file.relative)
            summary.skipped.append((landing_file.relative, CHANGED_WHILE_LOADED))

    def _may_load_while_hashing(self, landing_file: LandingFile, size: int) -> bool:
        """Most likely new bytes: a file to be loaded, under a path the ledger has never
        recorded, with a size no file the ledger recorded had."""
        if landing_file.problem:
            return False
        seen = self.con.execute(
            "SELECT 1 FROM audit.load_batches WHERE source_file = ? "
            "UNION ALL SELECT 1 FROM audit.landing_file_status WHERE size = ? LIMIT 1",
            [landing_file.relative, size],
        ).fetchone()
        return seen is None

    def _raise_if_known(self, landing_file: LandingFile, prints: Fingerprint) -> None:
        """KnownBytes if the ledger has these bytes under this path, or as a batch whose
        rows are in the warehouse (loaded or held)."""
        if self._already_recorded(landing_file.relative, prints.sha256):
            raise KnownBytes()
        original = self._batch_holding(prints.sha256)
        if original is not None:
            raise KnownBytes(original)

    # --- files seen on earlier nights ------------------------------------------------
    def _seen_unchanged(self, landing_file: LandingFile) -> bool:
        """Is this file, byte for byte, one the ledger already has? Decided from its status
        when the status proves it unchanged since it was hashed, so the history of old
        files in the landing folder is not read again every night."""
        status = current_status(landing_file.real_path)
        if status is None:
            return False
        row = self.con.execute(
            "SELECT sha256, hashed_at_ns FROM audit.landing_file_status WHERE source_file = ? "
            "AND device = ? AND inode = ? AND size = ? AND mtime_ns = ? AND ctime_ns = ?",
            [landing_file.relative, *astuple(status)],
        ).fetchone()
        if row is None or not status_proves_unchanged(status, row[1]):
            return False
        return self._already_recorded(landing_file.relative, row[0])

    def _remember_status(self, landing_file: LandingFile, prints: Fingerprint) -> None:
        if prints.status is None:
            return
        self.con.execute(
            "INSERT OR REPLACE INTO audit.landing_file_status (source_file, sha256, device, "
            "inode, size, mtime_ns, ctime_ns, hashed_at_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [landing_file.relative, prints.sha256, *astuple(prints.status), prints.taken_at_ns],
        )

    # --- the ledger -----------------------------------------------------------------
    def _already_recorded(self, relative: str, sha256: str | None) -> bool:
        row = self.con.execute(
            "SELECT 1 FROM audit.load_batches WHERE source_file = ? "
            "AND sha256 IS NOT DISTINCT FROM ? LIMIT 1",
            [relative, sha256],
        ).fetchone()
        return row is not None

    def _batch_holding(self, sha256: str) -> tuple[int, str] | None:
        return self.con.execute(
            "SELECT batch_id, source_file FROM audit.load_batches "
            "WHERE sha256 = ? AND status IN ('loaded', 'held') ORDER BY batch_id LIMIT 1",
            [sha256],
        ).fetchone()

    def _insert_batch_row(
        self,
        batch_id: int,
        landing_file: LandingFile,
        sha256: str | None,
        status: str,
        counts: tuple[int | None, int | None, int | None],
        message: str,
        started_at: datetime,
    ) -> FileResult:
        self.con.execute(
            "INSERT INTO audit.load_batches (batch_id, feed, source_file, sha256, rows_read, "
            "rows_loaded, rows_quarantined, status, message, started_at, finished_at, run_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                batch_id,
                landing_file.feed,
                landing_file.relative,
                sha256,
                *counts,
                status,
                message,
                started_at,
                utc_now(),
                self.run_id,
            ],
        )
        feed, relative = landing_file.feed, landing_file.relative
        return FileResult(batch_id, feed, relative, status, *counts, message)

    def _next_batch_id(self) -> int:
        return self.con.execute("SELECT nextval('audit.batch_id_seq')").fetchone()[0]

    def _record_batch(
        self, landing_file: LandingFile, sha256: str | None, status: str, message: str, started_at
    ) -> FileResult:
        self.con.begin()
        try:
            result = self._insert_batch_row(
                self._next_batch_id(),
                landing_file,
                sha256,
                status,
                (None, None, None),
                message,
                started_at,
            )
            if status == "rejected_file":
                raise_rejected_file_alert(self.settings, self.con, result, self.run_id)
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        return result

    def _record_refused(
        self,
        landing_file: LandingFile,
        sha256: str | None,
        problem: str,
        started_at: datetime,
        summary: IngestSummary,
    ) -> None:
        if self._already_recorded(landing_file.relative, sha256):
            summary.skipped.append((landing_file.relative, "already in the ledger"))
            return
        message = f"{landing_file.relative}: {problem}"
        log.warning("rejected file %s", message)
        summary.batches.append(
            self._record_batch(landing_file, sha256, "rejected_file", message, started_at)
        )

    # --- loading one file --------------------------------------------------------------
    def _alias(self, landing_file: LandingFile) -> Path:
        """A plain name for DuckDB to open: landing names may hold glob characters or quotes."""
        alias = self.alias_dir / f"{self.index}{landing_file.file_format}"
        alias.symlink_to(landing_file.real_path)
        return alias

    def _load(
        self, landing_file: LandingFile, wait_for_prints: Callable[[], Fingerprint], started_at
    ) -> FileResult:
        alias = self._alias(landing_file)
        self.con.begin()
        try:
            result = self._load_in_transaction(landing_file, alias, wait_for_prints, started_at)
            self._check_unchanged(landing_file, wait_for_prints())
            self.con.commit()
        except FILE_READ_ERRORS as error:
            self.con.rollback()
            message = describe_read_error(
                self.con, error, alias, landing_file.file_format, landing_file.relative
            )
            raise UnreadableFile(message) from None
        except BaseException:
            self.con.rollback()
            raise
        log.info("%s: %s", result.source_file, result.message)
        return result

    def _load_in_transaction(
        self,
        landing_file: LandingFile,
        alias: Path,
        wait_for_prints: Callable[[], Fingerprint],
        started_at,
    ) -> FileResult:
        feed = landing_file.feed
        source = file_source(self.con, alias, landing_file.file_format, feed)
        batch_id = self._next_batch_id()
        # Every statement below reads the file: its parameters, the reference lists and
        # the batch's lineage, all bound by name.
        lineage = {
            **source.parameters,
            **reference_parameters(feed, self.reference),
            "batch_id": batch_id,
            "source_file": landing_file.relative,
        }
        checked = checked_records_sql(feed, source.sql)
        if source.unnumbered_sql is not None:
            rows_loaded, rows_quarantined = self._insert_in_file_order(
                feed, source, checked, lineage
            )
        else:
            rows_loaded = self._insert_raw(feed, checked, lineage)
            rows_quarantined = 0
            # Every line a good record: nothing to quarantine, so the usual clean file is
            # read once. Otherwise read it again for the bad ones.
            if rows_loaded != source.one_per_line_records:
                rows_quarantined = self._insert_quarantine(checked, lineage)
        # The hash, if it is still running, is needed from here on.
        prints = wait_for_prints()
        self._sha256 = prints.sha256
        self._raise_if_known(landing_file, prints)
        count_lines(source, prints.physical_lines)
        rows_read = rows_loaded + rows_quarantined
        if rows_read != source.one_per_line_records:
            self._correct_line_numbers(feed, alias, landing_file, source, batch_id)
        message = f"loaded {rows_loaded} of {rows_read} records, quarantined {rows_quarantined}"
        message = "; ".join([message, *source.warnings])
        counts = (rows_read, rows_loaded, rows_quarantined)
        return self._insert_batch_row(
            batch_id, landing_file, prints.sha256, "loaded", counts, message, started_at
        )

    def _insert_raw(self, feed: str, checked: str, lineage: dict) -> int:
        columns = raw_column_values(feed)
        names = ", ".join(name for name, _ in columns)
        values = ", ".join(value for _, value in columns)
        return self.con.execute(
            f"INSERT INTO raw.{feed} ({names}, batch_id, source_file, line_number, loaded_at) "
            f"SELECT {values}, $batch_id, $source_file, line_number, $loaded_at "
            f"FROM ({checked}) WHERE NOT is_bad",
            {**lineage, "loaded_at": utc_now()},
        ).fetchone()[0]

    def _insert_in_file_order(
        self, feed: str, source: FileSource, checked: str, lineage: dict
    ) -> tuple[int, int]:
        """Load a CSV or JSONL file read in parallel, numbering its records by position.

        Numbering records with row_number() OVER () makes DuckDB read the file on one
        thread: at 10M rows that doubled the load (33 s against 16 s). Instead the
        records are inserted unnumbered. DuckDB keeps a statement's result order when it
        inserts (preserve_insertion_order, on by default), and rows inserted by this
        still uncommitted transaction have consecutive row ids in that order, so a
        record's number is its row id minus the first one (tests/ingest prove it on a
        file DuckDB reads in many parallel chunks). Bad records must not leave gaps in
        the row ids, so they are inserted too, as placeholder rows holding none of their
        values (line_number -1), and deleted once the quarantine has them. Only a file
        with bad records is read a second time, numbered, for the quarantine.

        Returns (rows loaded, rows quarantined).
        """
        batch_id = lineage["batch_id"]
        unnumbered = checked_records_sql(feed, source.unnumbered_sql)
        columns = placeholder_column_values(feed)
        names = ", ".join(name for name, _ in columns)
        values = ", ".join(value for _, value in columns)
        inserted = self.con.execute(
            f"INSERT INTO raw.{feed} ({names}, batch_id, source_file, line_number, loaded_at) "
            f"SELECT {values}, $batch_id, $source_file, CASE WHEN is_bad THEN -1 ELSE 0 END, "
            f"$loaded_at FROM ({unnumbered})",
            {**lineage, "loaded_at": utc_now()},
        ).fetchone()[0]
        first_row_id, bad = self.con.execute(
            f"SELECT min(rowid), count(*) FILTER (WHERE line_number = -1) FROM raw.{feed} "
            "WHERE batch_id = ?",
            [batch_id],
        ).fetchone()
        rows_quarantined = 0
        if bad:
            rows_quarantined = self._insert_quarantine(checked, lineage)
            if rows_quarantined != bad:  # the same rules on the same bytes: cannot differ
                raise RuntimeError(
                    f"batch {batch_id}: {bad} bad records on the first read, "
                    f"{rows_quarantined} on the second"
                )
            self.con.execute(
                f"DELETE FROM raw.{feed} WHERE batch_id = ? AND line_number = -1", [batch_id]
            )
        if inserted:
            self.con.execute(
                f"UPDATE raw.{feed} SET line_number = rowid - ? + ? WHERE batch_id = ?",
                [first_row_id, 1 + source.header_lines, batch_id],
            )
        return inserted - bad, rows_quarantined

    def _insert_quarantine(self, checked: str, lineage: dict) -> int:
        return self.con.execute(
            "INSERT INTO audit.quarantine (batch_id, source_file, line_number, record, reasons) "
            "SELECT $batch_id, $source_file, line_number, record_json, reasons "
            f"FROM ({checked}) WHERE is_bad",
            lineage,
        ).fetchone()[0]

    def _correct_line_numbers(
        self, feed: str, alias: Path, landing_file: LandingFile, source: FileSource, batch_id: int
    ) -> None:
        """Some record spans lines (or blank lines were skipped): use real start lines."""
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE line_starts AS "
            + line_number_map_sql(landing_file.file_format),
            file_parameters(alias),
        )
        for table in (f"raw.{feed}", "audit.quarantine"):
            self.con.execute(
                f"UPDATE {table} SET line_number = line_starts.line_number FROM line_starts "
                f"WHERE {table}.batch_id = ? "
                f"AND {table}.line_number = line_starts.record_number + {source.header_lines}",
                [batch_id],
            )
        self.con.execute("DROP TABLE line_starts")

    def _check_unchanged(self, landing_file: LandingFile, prints: Fingerprint) -> None:
        """The sha256 in the ledger must be that of the bytes loaded."""
        if not unchanged_since(landing_file.real_path, prints):
            raise FileChanged(landing_file.relative)


def raise_rejected_file_alert(
    settings: Settings, con: duckdb.DuckDBPyConnection, result: FileResult, run_id: str
) -> None:
    """One alert per rejected file. raise_alert commits its row at once (its own cursor),
    so the alert survives even if this batch's transaction does not."""
    from disruptions.quality.alerts import (
        raise_alert,  # imported late: it pulls in smtplib and http
    )

    raise_alert(
        settings,
        severity="critical",
        source="ingest",
        subject=f"Rejected file {result.source_file}",
        message=result.message,
        details={
            "feed": result.feed,
            "file": result.source_file,
            "batch_id": result.batch_id,
            "reason": result.message,
        },
        run_id=run_id,
        con=con,
    )
