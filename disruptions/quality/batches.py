"""Great Expectations on every new batch: a critical failure holds the batch (status
'held') with one critical alert; warnings give one warning alert. Data problems never
raise, and a batch whose validation cannot run is held with the reason.

How it stays fast: small batches of one feed are validated together (GX's cost is mostly
a fixed ~10 ms per expectation per validation), big ones alone, and the next group's frame
is built by DuckDB while GX validates this one (see frames.py).
"""

from __future__ import annotations

import json
import logging
import math
import re
import statistics
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import PurePosixPath

import duckdb

from disruptions import progress
from disruptions.config import Settings
from disruptions.errors import describe_unexpected
from disruptions.logs import printable
from disruptions.quality.alerts import raise_alert
from disruptions.quality.frames import query_batch_frame, release_memory, suite_parameters
from disruptions.quality.suites import (
    FEED_SUITES,
    ExpectationFailure,
    SuiteOutcome,
    SuiteRunner,
    import_gx,
    load_suite_definition,
)
from disruptions.warehouse import BATCH_STATUS, ENVIRONMENT_ERRORS, open_warehouse

logger = logging.getLogger(__name__)


# Batch volume: the band is built from the median of the sender's last VOLUME_HISTORY
# loaded batches of the same feed, once it has at least VOLUME_MIN_HISTORY of them.
VOLUME_HISTORY = 10
VOLUME_MIN_HISTORY = 3
VOLUME_WARNING_FACTOR = 5  # warning outside [median / 5, median * 5 + 10]
VOLUME_EXTREME_FACTOR = 50  # critical (held) above median * 50 + 1000

# Batches up to SMALL_BATCH_ROWS rows are validated together, up to GROUP_ROWS at once.
SMALL_BATCH_ROWS = 100_000
GROUP_ROWS = 1_000_000
MIN_GROUP_TO_SPLIT = 4  # a failing group this small is validated batch by batch
DUCKDB_MEMORY_LIMIT = "1GB"  # while batches are validated; DuckDB spills beyond it


@dataclass
class BatchOutcome:
    batch_id: int
    feed: str
    source_file: str
    outcome: SuiteOutcome
    held: bool
    alert_id: int | None


@dataclass
class BatchValidationSummary:
    batches: list[BatchOutcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def held(self) -> list[BatchOutcome]:
        return [b for b in self.batches if b.held]

    @property
    def with_warnings(self) -> list[BatchOutcome]:
        return [b for b in self.batches if b.outcome.warnings]

    def __str__(self) -> str:
        lines = [
            f"validated {len(self.batches)} batches in {self.seconds:.1f}s: "
            f"{len(self.held)} held, {len(self.with_warnings)} with warnings"
        ]
        for batch in self.batches:
            if batch.outcome.failures:
                state = "HELD" if batch.held else "warnings"
                lines.append(
                    f"  batch {batch.batch_id} ({batch.feed}, {printable(batch.source_file)}): "
                    f"{state}: " + "; ".join(f.describe() for f in batch.outcome.failures)
                )
        return "\n".join(lines)


# --- batches ----------------------------------------------------------------------------

_DATE_IN_NAME = re.compile(
    r"(?<!\d)(\d{4}[-_]?\d{2}[-_]?\d{2})([T_-]?\d{2}[-:]?\d{2}([-:]?\d{2})?)?(?!\d)"
)


def sender_of(source_file: str) -> str:
    """Who sent a file: the first folder under landing, or for a file at the top level its
    name without extensions and dates (disruptions_2026-01-05.csv -> disruptions)."""
    parts = PurePosixPath(source_file.replace("\\", "/")).parts
    if len(parts) > 1:
        return parts[0]
    stem = parts[0].split(".")[0] if parts else source_file
    cleaned = re.sub(r"[-_.\s]+", "_", _DATE_IN_NAME.sub("", stem)).strip("_")
    return cleaned or stem


def volume_bounds(history: list[int]) -> dict:
    """Suite parameters for the row-count checks, from the sender's recent batch sizes."""
    if len(history) < VOLUME_MIN_HISTORY:
        return {"volume_min": 0, "volume_max": None, "volume_extreme_max": None}
    median = statistics.median(history)
    return {
        "volume_min": math.floor(median / VOLUME_WARNING_FACTOR),
        "volume_max": math.ceil(median * VOLUME_WARNING_FACTOR) + 10,
        "volume_extreme_max": math.ceil(median * VOLUME_EXTREME_FACTOR) + 1000,
    }


def _pending_batches(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str, int]]:
    # A released batch was validated when it was held; never validate (and hold) it again:
    # its batch_status is 'released', not 'loaded'.
    return con.execute(
        f"""
        SELECT b.batch_id, b.feed, b.source_file, coalesce(b.rows_loaded, 0)
        FROM {BATCH_STATUS} AS b
        WHERE b.batch_status = 'loaded'
          AND b.feed IN ('disruptions', 'ocg_assessments')
          AND NOT EXISTS (SELECT 1 FROM audit.batch_validations AS v
                          WHERE v.batch_id = b.batch_id)
        ORDER BY b.batch_id
        """
    ).fetchall()


def plan_batch_groups(pending: list[tuple[int, str, str, int]]) -> list[list[tuple]]:
    """Groups of batches to validate together: assessments first (a held assessment file
    then already counts as unknown OCGs for the disruptions), each feed in load order;
    small batches share a group up to GROUP_ROWS rows, a big batch is on its own."""
    groups: list[list[tuple]] = []
    for feed in ("ocg_assessments", "disruptions"):
        current: list[tuple] = []
        current_rows = 0
        for batch in (b for b in pending if b[1] == feed):
            rows = batch[3]
            if rows > SMALL_BATCH_ROWS:
                groups.append([batch])
                continue
            if current and current_rows + rows > GROUP_ROWS:
                groups.append(current)
                current, current_rows = [], 0
            current.append(batch)
            current_rows += rows
        if current:
            groups.append(current)
    return groups


def _combinable(suite: dict) -> bool:
    """Whether a passing validation of many batches at once proves each one passes: true
    when every expectation is row-level without `mostly`, except the ones the per-batch
    check below re-applies to each batch (row counts, and null-checks with `mostly`)."""
    for expectation in suite["expectations"]:
        kind, kwargs = expectation["type"], expectation["kwargs"]
        if kind.startswith("expect_table_") and kind not in (
            "expect_table_columns_to_match_set",
            "expect_table_row_count_to_be_between",
        ):
            return False
        if "mostly" in kwargs and kind != "expect_column_values_to_be_null":
            return False
    return True


def _passes_alone(suite: dict, rows: int, null_shares: dict[str, float], bounds: dict) -> bool:
    """The per-batch part of a suite, for a batch whose rows already passed together with
    others: its row-count expectations and its mostly-null expectations. False sends the
    batch to a validation of its own, where GX gives the verdict."""
    for expectation in suite["expectations"]:
        kind, kwargs = expectation["type"], expectation["kwargs"]
        if kind == "expect_table_row_count_to_be_between":
            low, high = (_parameter(kwargs.get(k), bounds) for k in ("min_value", "max_value"))
            if (low is not None and rows < low) or (high is not None and rows > high):
                return False
        elif "mostly" in kwargs and null_shares.get(kwargs["column"], 0.0) < kwargs["mostly"]:
            return False
    return True


def _parameter(value, parameters: dict):
    if isinstance(value, dict) and "$PARAMETER" in value:
        return parameters.get(value["$PARAMETER"])
    return value


def _loaded_history(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list]:
    """Loaded batch sizes by (feed, sender), in load order."""
    history: dict[tuple[str, str], list] = {}
    for batch_id, feed, source_file, rows_loaded in con.execute(
        f"""
        SELECT batch_id, feed, source_file, coalesce(rows_loaded, 0)
        FROM {BATCH_STATUS}
        WHERE is_counted_in_marts AND feed IS NOT NULL
        ORDER BY batch_id
        """
    ).fetchall():
        history.setdefault((feed, sender_of(source_file)), []).append((batch_id, rows_loaded))
    return history


def _run_parameters(today: date) -> dict:
    now = datetime.now(UTC).replace(tzinfo=None)
    return {
        # Date bounds go to GX as ISO datetimes: a plain date would not compare with the
        # datetime64 columns GX vectorises.
        "max_date": f"{(today + timedelta(days=1)).isoformat()}T00:00:00",
        "max_recorded_at": (now + timedelta(days=1)).isoformat(timespec="seconds"),
    }


def validate_new_batches(settings: Settings, run_id: str) -> BatchValidationSummary:
    """Run each feed's suite on every loaded batch not validated yet; hold critical ones.

    GX's cost is mostly a fixed ~10 ms per expectation per validation, so a night of a
    hundred small files would spend its time there. Small batches of one feed are
    therefore validated together first (the frame carries batch_id; repeated versions
    are found within each batch). If that validation passes, each batch's own row-count
    and mostly-checks are applied to it, and a batch passing those is recorded as
    validated. Any failure, and any batch that is not clearly fine, gets a validation of
    its own, so every hold, warning and alert comes from GX on exactly that batch.
    """
    started = time.perf_counter()
    summary = BatchValidationSummary()
    with open_warehouse(settings) as con:
        pending = _pending_batches(con)
        if not pending:
            summary.seconds = time.perf_counter() - started
            return summary
        # Importing GX takes seconds of pure Python; DuckDB builds the first frame on its
        # own threads meanwhile.
        gx_import = threading.Thread(target=import_gx, name="import-gx", daemon=True)
        gx_import.start()
        # DuckDB would otherwise keep up to 80% of RAM for the frame query's hash tables
        # and cached blocks, on top of the pandas frame GX reads: cap it for this step.
        con.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        step = _BatchStep(settings, con, run_id, summary, gx_import)
        try:
            groups = plan_batch_groups(pending)
            done = 0
            for index, group in enumerate(groups):
                progress.report(
                    "validate_batches", "progress", batches_done=done, batches_total=len(pending)
                )
                step.expect_next(groups[index + 1] if index + 1 < len(groups) else None)
                for batch in step.validate_together(group):
                    step.validate_alone(batch)
                done += len(group)
        finally:
            step.close()
            con.execute("SET memory_limit = ?", [settings.duckdb_memory_limit])
    release_memory()
    summary.seconds = time.perf_counter() - started
    logger.info("%s", str(summary).splitlines()[0])
    return summary


def _assessments_token(con: duckdb.DuckDBPyConnection) -> list[int] | None:
    """The loaded batches a disruptions frame's unknown_ocg_id is judged against."""
    return con.execute(
        f"SELECT list(batch_id ORDER BY batch_id) FROM {BATCH_STATUS} "
        "WHERE is_counted_in_marts AND coalesce(feed, '') <> 'disruptions'"
    ).fetchall()[0][0]


class _BatchStep:
    """State shared by the batches of one validation step."""

    def __init__(self, settings, con, run_id, summary, gx_import) -> None:
        self.settings, self.con, self.run_id, self.summary = settings, con, run_id, summary
        self.gx_import = gx_import
        self.runner: SuiteRunner | None = None
        # The next group's frame is built on a second DuckDB connection (DuckDB works on
        # its own threads, without the GIL) while GX imports or validates this one.
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-frame")
        self.next_group: list[tuple] | None = None
        self.ahead: dict[tuple, Future] = {}
        self.history = _loaded_history(con)
        self.base_parameters = {
            **suite_parameters(con),
            **_run_parameters(datetime.now(UTC).date()),
            "plausible_max_threat_score": settings.plausible_max_threat_score,
            "plausible_max_member_count": settings.plausible_max_member_count,
        }

    def _runner(self) -> SuiteRunner:
        if self.runner is None:
            self.gx_import.join()
            self.runner = SuiteRunner(self.settings)
        return self.runner

    def expect_next(self, group: list[tuple] | None) -> None:
        """Name the group validated after the current one; its frame is built as soon as
        the current one's frame is in hand."""
        self.next_group = group

    def frame(self, feed: str, batch_ids: list[int]):
        """The frame of these batches: built ahead if it was, else now. Then the frame of
        the next group starts building in the background."""
        key = (feed, tuple(sorted(batch_ids)))
        future = self.ahead.pop(key, None)
        frame = None
        if future is not None:
            frame, token = future.result()
            # Unknown OCGs are judged against the loaded assessments: if one was held
            # since this frame was built, the frame is stale and is built again.
            if token != _assessments_token(self.con):
                del frame
                frame = None
        if frame is None:
            frame = query_batch_frame(self.con, feed, list(batch_ids))
        if self.next_group is not None:
            upcoming = self.next_group
            self.next_group = None
            next_key = (upcoming[0][1], tuple(sorted(b[0] for b in upcoming)))
            if next_key != key and next_key not in self.ahead:
                self.ahead[next_key] = self.pool.submit(self._build_ahead, *next_key)
        return frame

    def _build_ahead(self, feed: str, batch_ids: tuple[int, ...]):
        cursor = self.con.cursor()
        try:
            cursor.execute("BEGIN TRANSACTION")  # the token and the frame see one snapshot
            token = _assessments_token(cursor)
            frame = query_batch_frame(cursor, feed, list(batch_ids))
            cursor.execute("COMMIT")
            return frame, token
        finally:
            cursor.close()

    def close(self) -> None:
        for future in self.ahead.values():
            future.cancel()
        self.pool.shutdown(wait=True)
        self.ahead.clear()

    def _bounds(self, batch_id: int, feed: str, source_file: str) -> dict:
        sizes = [
            rows
            for earlier_id, rows in self.history.get((feed, sender_of(source_file)), [])
            if earlier_id < batch_id
        ][-VOLUME_HISTORY:]
        return volume_bounds(sizes)

    def validate_together(self, group: list[tuple]) -> list[tuple]:
        """Validate a group at once; return the batches that need a validation alone.

        A group that fails is split in halves and each half tried again, so one bad file
        among a hundred costs a dozen joint validations, not a hundred single ones."""
        if len(group) < 2:
            return group
        feed = group[0][1]
        suite_name = FEED_SUITES[feed]
        suite = load_suite_definition(suite_name)
        if not _combinable(suite):
            return group
        runner = self._runner()
        unbounded = {"volume_min": 0, "volume_max": None, "volume_extreme_max": None}
        try:
            frame = self.frame(feed, [batch[0] for batch in group])
            outcome = runner.run(suite_name, frame, {**self.base_parameters, **unbounded})
        except ENVIRONMENT_ERRORS:
            raise
        except Exception:
            # Validated one by one instead, where an error holds only its own batch.
            return group
        if outcome.failures:
            del frame
            if len(group) < MIN_GROUP_TO_SPLIT:
                return group
            middle = len(group) // 2
            return self.validate_together(group[:middle]) + self.validate_together(group[middle:])
        rows = frame["batch_id"].value_counts()
        mostly_columns = [
            e["kwargs"]["column"] for e in suite["expectations"] if "mostly" in e["kwargs"]
        ]
        shares = {
            column: frame[column].isna().groupby(frame["batch_id"]).mean()
            for column in mostly_columns
        }
        del frame
        alone = []
        for batch in group:
            batch_id, _, source_file, _ = batch
            count = int(rows.get(batch_id, 0))
            null_shares = {c: float(s.get(batch_id, 1.0)) for c, s in shares.items()}
            bounds = self._bounds(batch_id, feed, source_file)
            if not _passes_alone(suite, count, null_shares, bounds):
                alone.append(batch)
                continue
            own = SuiteOutcome(suite_name, count, outcome.evaluated, [], 0.0, outcome.results)
            together = {"validated_with_batches": [b[0] for b in group]}
            self.summary.batches.append(
                _record_batch_outcome(
                    self.settings,
                    self.con,
                    self.run_id,
                    batch_id,
                    feed,
                    source_file,
                    own,
                    together,
                )
            )
        logger.info(
            "%d %s batches (%d rows) passed together in %.2fs; %d validated alone",
            len(group) - len(alone),
            feed,
            outcome.rows,
            outcome.seconds,
            len(alone),
        )
        return alone

    def validate_alone(self, batch: tuple) -> None:
        batch_id, feed, source_file, rows = batch
        runner = self._runner()
        parameters = {**self.base_parameters, **self._bounds(batch_id, feed, source_file)}
        try:
            frame = self.frame(feed, [batch_id])
            outcome = runner.run(FEED_SUITES[feed], frame, parameters)
            del frame
        except ENVIRONMENT_ERRORS:
            raise
        except Exception as error:
            # One batch's data must not stop the others' validation, night after night:
            # a batch that cannot be validated is held, with the reason, for a steward.
            outcome = _unvalidated_outcome(FEED_SUITES[feed], rows, error)
        result = _record_batch_outcome(
            self.settings, self.con, self.run_id, batch_id, feed, source_file, outcome
        )
        if result.held:  # a held batch is no history for the sender's later batches
            key = (feed, sender_of(source_file))
            self.history[key] = [e for e in self.history.get(key, []) if e[0] != batch_id]
        self.summary.batches.append(result)
        logger.info(
            "batch %s (%s, %s): %d rows, %d expectations, %d critical / %d warning "
            "failures in %.2fs",
            batch_id,
            feed,
            source_file,
            outcome.rows,
            outcome.evaluated,
            len(outcome.critical),
            len(outcome.warnings),
            outcome.seconds,
        )


def _unvalidated_outcome(suite_name: str, rows: int, error: Exception) -> SuiteOutcome:
    logger.error("%s: validation could not run: %s", suite_name, describe_unexpected(error))
    return SuiteOutcome(
        suite_name=suite_name,
        rows=rows,
        evaluated=0,
        failures=[
            ExpectationFailure(
                expectation="batch_can_be_validated",
                severity="critical",
                why=(
                    "A batch that cannot be validated cannot be trusted: it is held until a "
                    "steward has looked at it."
                ),
                column=None,
                failing_rows=None,
                failing_percent=None,
                observed_value=None,
                samples=[],
                error=f"{type(error).__name__} while building or validating its frame",
            )
        ],
        seconds=0.0,
    )


def _record_batch_outcome(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    batch_id: int,
    feed: str,
    source_file: str,
    outcome: SuiteOutcome,
    extra: dict | None = None,
) -> BatchOutcome:
    """Record the validation, hold the batch on a critical failure, and alert.

    The alert row commits on its own before the validation row does: after a crash in
    between, the batch is validated (and alerted) again rather than held silently.
    """
    held = bool(outcome.critical)
    details = {
        "feed": feed,
        "source_file": source_file,
        "batch_id": batch_id,
        "suite": outcome.suite_name,
        "rows": outcome.rows,
        "failures": [f.as_dict() for f in outcome.critical + outcome.warnings],
    }
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "INSERT INTO audit.batch_validations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                batch_id,
                outcome.suite_name,
                not outcome.failures,
                len(outcome.critical),
                len(outcome.warnings),
                datetime.now(UTC).replace(tzinfo=None),
                run_id,
                json.dumps(
                    {
                        "rows": outcome.rows,
                        "failures": details["failures"],
                        "results": outcome.results or details["failures"],
                        **(extra or {}),
                    }
                ),
            ],
        )
        alert_id = None
        if held:
            first = outcome.critical[0]
            con.execute(
                """
                UPDATE audit.load_batches
                SET status = 'held',
                    message = concat_ws('; ', nullif(message, ''), ?)
                WHERE batch_id = ? AND status = 'loaded'
                """,
                [f"held: {first.expectation} on {first.column or 'the batch'} failed", batch_id],
            )
            alert_id = raise_alert(
                settings,
                severity="critical",
                source="batch_validation",
                subject=(
                    f"Batch {batch_id} held: {feed} file {source_file} failed "
                    f"{len(outcome.critical)} critical expectation(s)"
                ),
                message=(
                    f"Batch {batch_id} of feed {feed} ({source_file}, {outcome.rows} rows) "
                    f"is held and excluded from the marts. Failing:\n- "
                    + "\n- ".join(f.describe() for f in outcome.critical + outcome.warnings)
                    + f"\nReview it, then run `disruptions release {batch_id}` or "
                    f"`disruptions discard {batch_id}`."
                ),
                details=details,
                run_id=run_id,
                con=con,
            )
        elif outcome.warnings:
            alert_id = raise_alert(
                settings,
                severity="warning",
                source="batch_validation",
                subject=(
                    f"Batch {batch_id} loaded with {len(outcome.warnings)} warning(s): "
                    f"{feed} file {source_file}"
                ),
                message=(
                    f"Batch {batch_id} of feed {feed} ({source_file}, {outcome.rows} rows) is "
                    f"loaded and counted, with warnings:\n- "
                    + "\n- ".join(f.describe() for f in outcome.warnings)
                ),
                details=details,
                run_id=run_id,
                con=con,
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return BatchOutcome(batch_id, feed, source_file, outcome, held, alert_id)
