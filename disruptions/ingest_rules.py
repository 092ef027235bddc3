"""What each feed's columns must hold, written as set-based DuckDB SQL.

A feed is a list of `Column`s. From it we generate, per column, the normalised value
(`n_<col>`) and the rules that make a record bad. Every rule is a pair: a condition that is
true when the record breaks it, and a readable reason naming the column and the value.
The same conditions decide both "load" and "quarantine", so every record lands in exactly
one of the two and `rows_read = rows_loaded + rows_quarantined` holds by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from disruptions.config import SEEDS_DIR

EARLIEST_DISRUPTION_DATE = "2000-01-01"
INTEGER_MAX = 2_147_483_647  # raw.*.threat_score / member_count are INTEGER

DISRUPTION_STATUSES = ("claimed", "approved", "rejected", "withdrawn")
OCG_STATUSES = ("active", "archived")
ARCHIVE_REASONS = ("dismantled", "merged", "no_longer_meets_definition", "transferred", "other")


@dataclass(frozen=True)
class Column:
    name: str
    # id: trimmed, case kept | enum: trimmed, lower case | code: trimmed, upper case
    # date | timestamp | count (integer >= 0) | text: stored as read
    kind: str
    required: bool
    allowed: str | None = None  # name of a reference list (see load_reference_values)


FEED_COLUMNS: dict[str, tuple[Column, ...]] = {
    "disruptions": (
        Column("disruption_id", "id", True),
        Column("ocg_id", "id", True),
        Column("disruption_date", "date", True),
        Column("recorded_at", "timestamp", True),
        Column("impact", "enum", True, "impact"),
        Column("strand", "enum", True, "strand"),
        Column("tactic", "enum", True, "tactic"),
        Column("lead_agency", "code", True, "lead_agency"),
        Column("force_area", "code", True, "force"),
        Column("status", "enum", True, "disruption_status"),
        Column("operation", "text", False),
        Column("rationale", "text", False),
    ),
    "ocg_assessments": (
        Column("ocg_id", "id", True),
        Column("assessed_on", "date", True),
        Column("threat_score", "count", True),
        Column("band", "code", True, "band"),
        Column("status", "enum", True, "ocg_status"),
        # Required only when status is archived: see the cross-column rules below.
        Column("archive_reason", "enum", False, "archive_reason"),
        Column("lead_force", "code", True, "force"),
        Column("principal_activity", "text", False),
        Column("member_count", "count", False),
    ),
}


@dataclass(frozen=True)
class AllowedValues:
    values: tuple[str, ...]
    # How a reason describes the allowed values; long code lists are named, not listed.
    description: str


def _seed_column(con: duckdb.DuckDBPyConnection, seed: str, column: str) -> list[str]:
    path = sql_string(str(SEEDS_DIR / seed))
    rows = con.execute(
        f"SELECT DISTINCT trim({column}) FROM read_csv({path}, header=true, all_varchar=true) "
        f"WHERE trim({column}) <> '' ORDER BY ALL"
    ).fetchall()
    return [value for (value,) in rows]


def load_reference_values(con: duckdb.DuckDBPyConnection) -> dict[str, AllowedValues]:
    """Read the allowed codes from seeds/ now, so an edited seed applies to the next load."""

    def listed(values: list[str] | tuple[str, ...]) -> AllowedValues:
        return AllowedValues(tuple(values), "expected " + ", ".join(values))

    def impact_order() -> list[str]:
        seed = sql_string(str(SEEDS_DIR / "impact_levels.csv"))
        rows = con.execute(
            f"SELECT lower(trim(impact)) FROM read_csv({seed}, header=true, all_varchar=true) "
            "ORDER BY try_cast(sort_order AS INTEGER), impact"
        ).fetchall()
        return [value for (value,) in rows]

    forces = [value.upper() for value in _seed_column(con, "forces.csv", "force_code")]
    rocus = [value.upper() for value in _seed_column(con, "rocus.csv", "rocu_code")]
    partners = [value.upper() for value in _seed_column(con, "partner_agencies.csv", "agency_code")]
    return {
        "impact": listed(impact_order()),
        "strand": listed([value.lower() for value in _seed_column(con, "strands.csv", "strand")]),
        "tactic": listed([value.lower() for value in _seed_column(con, "tactics.csv", "tactic")]),
        "band": listed([value.upper() for value in _seed_column(con, "ocg_bands.csv", "band")]),
        "force": AllowedValues(tuple(forces), "expected a force code from seeds/forces.csv"),
        "lead_agency": AllowedValues(
            tuple(sorted(set(forces) | set(rocus) | set(partners))),
            "expected a force, ROCU or partner agency code from seeds/",
        ),
        "disruption_status": listed(DISRUPTION_STATUSES),
        "ocg_status": listed(OCG_STATUSES),
        "archive_reason": listed(ARCHIVE_REASONS),
    }


def sql_string(value: str) -> str:
    """A SQL string literal. Values come from seeds and file headers, so quote them."""
    return "'" + value.replace("'", "''") + "'"


def trimmed_value(column: Column) -> str:
    """The value as read, trimmed, with empty meaning missing (text is kept as read)."""
    if column.kind == "text":
        return f"src.{column.name}"
    return f"NULLIF(trim(src.{column.name}), '')"


def normalised_value(column: Column) -> str:
    """SQL for the stored value of a column, from its trimmed value `t_<column>`."""
    value = f"t_{column.name}"
    if column.kind in ("id", "text"):
        return value
    if column.kind == "enum":
        return f"lower({value})"
    if column.kind == "code":
        return f"upper({value})"
    if column.kind == "date":
        # The cast alone also takes '2025-3-1' and '2025-03-01T10:00': ISO dates only.
        return (
            f"CASE WHEN length({value}) = 10 AND substr({value}, 5, 1) = '-' "
            f"AND substr({value}, 8, 1) = '-' THEN try_cast({value} AS DATE) END"
        )
    if column.kind == "timestamp":
        # The session time zone is UTC, so offsets are converted and naive values kept.
        return f"CAST(try_cast({value} AS TIMESTAMPTZ) AS TIMESTAMP)"
    if column.kind == "count":
        # The cast alone rounds '12.5' and takes '1e3': whole numbers only.
        return (
            f"CASE WHEN regexp_full_match({value}, '[0-9]{{1,18}}') "
            f"THEN CAST({value} AS BIGINT) END"
        )
    raise ValueError(f"unknown column kind {column.kind!r}")


@dataclass(frozen=True)
class Rule:
    broken_when: str  # SQL, true when the record breaks the rule
    reason: str  # SQL producing the readable reason


def _quoted_value(column: Column) -> str:
    return f"'''' || t_{column.name} || ''''"


def column_rules(column: Column, reference: dict[str, AllowedValues]) -> list[Rule]:
    name = column.name
    normal = f"n_{name}"
    present = f"t_{name} IS NOT NULL"
    rules: list[Rule] = []
    if column.required:
        rules.append(Rule(f"t_{name} IS NULL", f"'{name}: missing required field'"))
    if column.allowed:
        allowed = reference[column.allowed]
        listed = ", ".join(sql_string(value) for value in allowed.values)
        rules.append(
            Rule(
                f"{normal} IS NOT NULL AND {normal} NOT IN ({listed})",
                f"'{name}: value ' || {_quoted_value(column)} || "
                f"{sql_string(' not allowed (' + allowed.description + ')')}",
            )
        )
    unparseable = {"date": "unparseable date", "timestamp": "unparseable timestamp"}
    if column.kind in unparseable:
        rules.append(
            Rule(
                f"{present} AND {normal} IS NULL",
                f"'{name}: {unparseable[column.kind]} ' || {_quoted_value(column)}",
            )
        )
    if column.kind == "count":
        rules.append(
            Rule(
                f"{present} AND ({normal} IS NULL OR {normal} > {INTEGER_MAX})",
                f"'{name}: value ' || {_quoted_value(column)} || ' is not a whole number >= 0'",
            )
        )
    return rules


def cross_column_rules(feed: str) -> list[Rule]:
    if feed == "disruptions":
        return [
            Rule(
                f"n_disruption_date < DATE '{EARLIEST_DISRUPTION_DATE}'",
                f"'disruption_date ' || CAST(n_disruption_date AS VARCHAR) || "
                f"' is before {EARLIEST_DISRUPTION_DATE}'",
            ),
            Rule(
                "n_disruption_date > CAST(n_recorded_at AS DATE)",
                "'disruption_date ' || CAST(n_disruption_date AS VARCHAR) || "
                "' is after recorded_at ' || CAST(CAST(n_recorded_at AS DATE) AS VARCHAR)",
            ),
        ]
    return [
        Rule(
            "n_status = 'archived' AND n_archive_reason IS NULL",
            "'archive_reason: missing required field (required when status is archived)'",
        ),
        # An active OCG with an archive reason contradicts itself; which half is wrong is
        # the sender's call, so the record waits in quarantine rather than guessing.
        Rule(
            "n_status = 'active' AND n_archive_reason IS NOT NULL",
            "'archive_reason: value ''' || n_archive_reason || ''' given but status is active'",
        ),
    ]


def feed_rules(feed: str, reference: dict[str, AllowedValues]) -> list[Rule]:
    rules: list[Rule] = []
    for column in FEED_COLUMNS[feed]:
        rules.extend(column_rules(column, reference))
    return rules + cross_column_rules(feed)


def checked_records_sql(feed: str, source_sql: str, reference: dict[str, AllowedValues]) -> str:
    """SELECT over the source with normalised values `n_<col>`, `is_bad` and `reasons`.

    The source must expose record_number, line_number, record_json and one VARCHAR column
    per feed column (NULL when the file lacks it). Each layer computes its expressions
    once: trimmed values, then normalised ones, then one flag per rule.
    """
    columns = FEED_COLUMNS[feed]
    rules = feed_rules(feed, reference)
    trimmed = ", ".join(f"{trimmed_value(c)} AS t_{c.name}" for c in columns)
    normalised = ", ".join(f"{normalised_value(c)} AS n_{c.name}" for c in columns)
    flags = ", ".join(
        f"coalesce({rule.broken_when}, false) AS broken_{i}" for i, rule in enumerate(rules)
    )
    is_bad = " OR ".join(f"broken_{i}" for i in range(len(rules)))
    reasons = ", ".join(
        f"CASE WHEN broken_{i} THEN {rule.reason} END" for i, rule in enumerate(rules)
    )
    return f"""
    SELECT *, {is_bad} AS is_bad, concat_ws('; ', {reasons}) AS reasons
    FROM (
        SELECT *, {flags}
        FROM (
            SELECT *, {normalised}
            FROM (
                SELECT src.record_number, src.line_number, src.record_json, {trimmed}
                FROM ({source_sql}) AS src
            )
        )
    )
    """


# What a raw NOT NULL column holds in a placeholder row (see FileLoader._insert_in_file_order).
PLACEHOLDER_VALUES = {
    "date": "DATE '1970-01-01'",
    "timestamp": "TIMESTAMP '1970-01-01 00:00:00'",
    "count": "0",
}


def placeholder_column_values(feed: str) -> list[tuple[str, str]]:
    """(raw table column, SQL of its value) where a bad record becomes a placeholder row:
    required columns hold a dummy of their type, optional ones NULL; no value of the record
    itself is kept, so nothing of it (rationale included) is stored even for a moment."""
    values = []
    for column, (name, value) in zip(FEED_COLUMNS[feed], raw_column_values(feed), strict=True):
        if column.required:
            dummy = PLACEHOLDER_VALUES.get(column.kind, "''")
            values.append((name, f"CASE WHEN is_bad THEN {dummy} ELSE {value} END"))
        else:
            values.append((name, f"CASE WHEN NOT is_bad THEN {value} END"))
    return values


def raw_column_values(feed: str) -> list[tuple[str, str]]:
    """(raw table column, SQL of its value in the checked records)."""
    values = []
    for column in FEED_COLUMNS[feed]:
        value = f"n_{column.name}"
        if column.kind == "count":
            value = f"CAST({value} AS INTEGER)"
        values.append((column.name, value))
    return values
