"""Bringing a big table of a published file up to date row by row, not copying it whole.

A night changes a few rows of the big marts (fct_disruption_claims holds every claim
version ever loaded, dim_ocg_assessment_history every assessment), yet each published
file used to be written from scratch: at 10M rows, copying those two into the national
file and the ten regional ones was most of publication. So a new file starts as a copy of
the live one (copying a file costs a fraction of a second), and each of those tables in it
is synchronised with exactly the rows the full copy would hold:

- rows are matched by the table's key (unique and never NULL: dbt tests with severity
  error check both before anything is published, and a NULL key here falls back to the
  full copy);
- every other column but the run's `as_of_date` is compared, through two hashes of them
  (a changed row passes for unchanged only if both collide), and the rows that differ,
  are new or are gone are deleted and inserted again;
- `as_of_date`, one value for the whole run, is set on every row kept.

The warehouse side's hashes are computed once per publication, not once per file: each
big mart's rows, hashed and tagged with the region they belong to, go into a digest table
in memory (`build_digest`), and every file compares its own rows with its slice of it. At
10M rows that spared ten scans of the warehouse's marts, each hashing every row to keep a
tenth of them. A table with no digest (its regional rule is not by region) hashes its
source itself, as before.

The row count is then checked against the full copy's. Anything unexpected (the table is
missing or its columns differ, several as_of_dates) falls back to the full copy, and so
does a live file with half its space free, which a full copy compacts. The new file is
still built aside and swapped in atomically (atomic.py).
"""

from __future__ import annotations

import itertools
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from disruptions.errors import PipelineError

log = logging.getLogger(__name__)

# The marts brought up to date row by row, and the key of each: a unique combination of
# never-NULL columns, which dbt tests with severity error check on every build.
SYNCED_MART_KEYS = {
    "fct_disruption_claims": ("batch_id", "line_number"),
    "dim_ocg_assessment_history": ("ocg_id", "valid_from"),
}
# The one column whose value is the run's, the same on every row (the as_of date).
RUN_CONSTANT_COLUMN = "as_of_date"
# A live file with more of its blocks free than this is copied whole again instead.
MOST_FREE_SHARE = 0.5
_TEMP_NUMBERS = itertools.count()
# The in-memory catalog of the digests, attached for one publication.
DIGEST_CATALOG = "publish_digests"


@dataclass(frozen=True)
class DigestSlice:
    """One file's rows of a digest (build_digest): `where` on the digest's columns, `true`
    for the national file and `region = $rocu` for a regional one."""

    relation: str
    where: str = "true"
    parameters: dict = field(default_factory=dict)


def quote(identifier: str) -> str:
    """A SQL identifier, quoted (column names come from the tables, as written)."""
    return '"' + identifier.replace('"', '""') + '"'


def start_from_live_copy(live: Path, tmp_path: Path) -> bool:
    """Copy the live published file to `tmp_path` when it is worth patching; say if so."""
    if not live.exists() or live.with_name(live.name + ".wal").exists():
        return False
    try:
        reader = duckdb.connect(str(live), read_only=True)
    except duckdb.Error:
        return False  # not a readable DuckDB file: the full copy replaces it
    try:
        free, total = reader.execute(
            "SELECT free_blocks, total_blocks FROM pragma_database_size() "
            "WHERE database_name = current_database()"
        ).fetchone()
    finally:
        reader.close()
    if total and free / total > MOST_FREE_SHARE:
        return False
    shutil.copyfile(live, tmp_path)
    return True


def _compared_columns(names: list[str], key: tuple[str, ...]) -> list[str]:
    """The columns whose values a sync compares: all but the key and the run's constant."""
    return [name for name in names if name not in key and name != RUN_CONSTANT_COLUMN]


def _row_hashes(key: tuple[str, ...], compared: list[str]) -> str:
    """The key and two hashes of the compared columns, in opposite orders: a changed row
    is taken for unchanged only if both collide. Hashing each side first keeps the join to
    keys and two numbers a row (an exact comparison carries every column through the
    join: as slow as copying the table whole)."""
    forward = ", ".join(quote(c) for c in compared)
    backward = ", ".join(quote(c) for c in reversed(compared))
    key_list = ", ".join(quote(k) for k in key)
    return f"{key_list}, hash({forward}) AS forward, hash({backward}, 1) AS backward"


def build_digest(
    con: duckdb.DuckDBPyConnection,
    source: str,
    key: tuple[str, ...],
    region: str,
) -> str:
    """Hash every row of the warehouse table `source` once, for every file published
    from it, and tag it with its region (`region`, an expression on the row `r`); returns
    the digest table, in DIGEST_CATALOG (attach_digests)."""
    names = [name for name, _ in _columns(con, source, {})]
    digest = f"{DIGEST_CATALOG}.digest_{next(_TEMP_NUMBERS)}"
    con.execute(
        f"CREATE TABLE {digest} AS SELECT {_row_hashes(key, _compared_columns(names, key))}, "
        f"{quote(RUN_CONSTANT_COLUMN)}, {region} AS region FROM {source} AS r "
        # In region order, so that each regional file's slice is a few row groups that
        # DuckDB finds by their min and max, not a scan of every row.
        "ORDER BY region"
    )
    return digest


def attach_digests(con: duckdb.DuckDBPyConnection) -> None:
    """An in-memory catalog for this publication's digests; every cursor of `con` sees it."""
    con.execute(f"ATTACH ':memory:' AS {DIGEST_CATALOG}")


def detach_digests(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DETACH DATABASE IF EXISTS {DIGEST_CATALOG}")


def _columns(con: duckdb.DuckDBPyConnection, relation: str, parameters: dict) -> list:
    cursor = con.execute(f"SELECT * FROM {relation} AS r LIMIT 0", parameters)
    return [(column[0], str(column[1])) for column in cursor.description]


def sync_table(
    con: duckdb.DuckDBPyConnection,
    target: str,
    select: str,
    parameters: dict,
    key: tuple[str, ...],
    digest: DigestSlice | None = None,
) -> int | None:
    """Make `target` (a table of the copied live file) hold exactly the rows of `select`,
    whose row hashes are `digest` when it is given (build_digest).

    Returns its row count, or None when it must be copied whole instead (see above).
    """
    source = f"({select})"
    try:
        columns = _columns(con, target, {})
    except duckdb.CatalogException:
        return None
    names = [name for name, _ in columns]
    if columns != _columns(con, source, parameters) or RUN_CONSTANT_COLUMN not in names:
        return None
    if not set(key) <= set(names):
        return None
    compared = _compared_columns(names, key)
    hashed = _row_hashes(key, compared)
    if digest is None:
        new_rows = f"(SELECT {hashed}, {quote(RUN_CONSTANT_COLUMN)} FROM {source} AS r)"
        new_parameters = parameters
    else:
        new_rows = f"(SELECT * FROM {digest.relation} WHERE {digest.where})"
        new_parameters = digest.parameters
    q = quote
    null_key = " OR ".join(f"s.{q(k)} IS NULL" for k in key)
    nulls, run_values, run_value, rows = con.execute(
        f"SELECT count(*) FILTER (WHERE {null_key}), count(DISTINCT s.{RUN_CONSTANT_COLUMN}), "
        f"min(s.{RUN_CONSTANT_COLUMN}), count(*) FROM {new_rows} AS s",
        new_parameters,
    ).fetchone()
    if nulls or run_values > 1:
        return None

    changed = f"publish_changed_keys_{next(_TEMP_NUMBERS)}"
    matched = " AND ".join(f"s.{q(k)} = l.{q(k)}" for k in key)
    keys = ", ".join(f"coalesce(s.{q(k)}, l.{q(k)}) AS {q(k)}" for k in key)
    con.execute(
        f"CREATE TEMP TABLE {changed} AS SELECT {keys}, s.{q(key[0])} IS NULL AS gone "
        f"FROM {new_rows} AS s "
        f"FULL JOIN (SELECT {hashed} FROM {target} AS r) AS l ON {matched} "
        f"WHERE s.{q(key[0])} IS NULL OR l.{q(key[0])} IS NULL "
        "OR s.forward <> l.forward OR s.backward <> l.backward",
        new_parameters,
    )
    try:
        (replaced,) = con.execute(f"SELECT count(*) FROM {changed}").fetchone()
        if replaced:
            on_changed = " AND ".join(f"d.{q(k)} = l.{q(k)}" for k in key)
            con.execute(f"DELETE FROM {target} AS l USING {changed} AS d WHERE {on_changed}")
            on_source = " AND ".join(f"d.{q(k)} = s.{q(k)}" for k in key)
            con.execute(
                f"INSERT INTO {target} SELECT s.* FROM {source} AS s "
                f"INNER JOIN {changed} AS d ON {on_source} WHERE NOT d.gone",
                parameters,
            )
    finally:
        con.execute(f"DROP TABLE {changed}")
    if rows:
        con.execute(
            f"UPDATE {target} SET {RUN_CONSTANT_COLUMN} = $run_value "
            f"WHERE {RUN_CONSTANT_COLUMN} IS DISTINCT FROM $run_value",
            {"run_value": run_value},
        )
    (synced,) = con.execute(f"SELECT count(*) FROM {target}").fetchone()
    if synced != rows:  # cannot happen with a unique key; never publish it if it does
        raise PipelineError(f"publish: {target} has {synced} rows after its update, not {rows}")
    log.info("publish: %s brought up to date, %d of %d rows replaced", target, replaced, rows)
    return synced
