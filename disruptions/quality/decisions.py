"""The data steward's decisions on held batches: release or discard.

A held batch failed a critical expectation of its feed suite and is out of the marts.
- release: the batch becomes 'loaded' again and counts from the next run's dbt build. It
  keeps its validation row, so re-validation never takes (and holds) it again.
- discard: the batch stays 'held' for good; it can no longer be released.
Either way the rows stay in raw for audit, and the decision is recorded in
audit.batch_decisions.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime

import duckdb

from disruptions.config import Settings
from disruptions.errors import UserError
from disruptions.logs import printable
from disruptions.warehouse import BATCH_STATUS, open_warehouse


def _decided_by(settings: Settings) -> str:
    if settings.steward:
        return settings.steward
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"


def _held_batch(con: duckdb.DuckDBPyConnection, batch_id: int, action: str) -> tuple[str, str]:
    """The batch's feed and file, after checking, by the batch-status model, that it is
    held and awaiting a decision.

    `action` is the past participle used in the messages: "released" or "discarded"."""
    row = con.execute(
        f"SELECT batch_status, feed, source_file FROM {BATCH_STATUS} WHERE batch_id = ?",
        [batch_id],
    ).fetchall()
    if not row:
        raise UserError(f"batch {batch_id}: no such batch (see `disruptions status`)")
    batch_status, feed, source_file = row[0]
    if batch_status == "discarded":
        raise UserError(
            f"batch {batch_id} ({printable(source_file)}) was discarded; a discarded batch "
            f"cannot be {action}"
        )
    if batch_status != "held":
        raise UserError(
            f"batch {batch_id} ({printable(source_file)}) is {batch_status}, not held; only a "
            f"held batch can be {action}"
        )
    return feed, source_file


def _record_decision(
    settings: Settings, con: duckdb.DuckDBPyConnection, batch_id: int, decision: str
) -> None:
    con.execute(
        "INSERT INTO audit.batch_decisions VALUES (?, ?, ?, ?)",
        [batch_id, decision, datetime.now(UTC).replace(tzinfo=None), _decided_by(settings)],
    )


def release_batch(settings: Settings, batch_id: int) -> str:
    """Let a reviewed held batch into the marts from the next run on."""
    with open_warehouse(settings) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            feed, source_file = _held_batch(con, batch_id, "released")
            con.execute(
                "UPDATE audit.load_batches SET status = 'loaded', "
                "message = concat_ws('; ', nullif(message, ''), 'released by data steward') "
                "WHERE batch_id = ?",
                [batch_id],
            )
            _record_decision(settings, con, batch_id, "released")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return (
        f"released batch {batch_id} ({feed}, {source_file}): it counts in the marts from "
        "the next run"
    )


def discard_batch(settings: Settings, batch_id: int) -> str:
    """Keep a held batch out of the marts for good (its rows stay in raw for audit)."""
    with open_warehouse(settings) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            feed, source_file = _held_batch(con, batch_id, "discarded")
            _record_decision(settings, con, batch_id, "discarded")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return (
        f"discarded batch {batch_id} ({feed}, {source_file}): it stays held and out of the "
        "marts; its rows remain in raw for audit"
    )
