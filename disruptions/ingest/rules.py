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

from disruptions.feeds import EARLIEST_DISRUPTION_DATE as _EARLIEST
from disruptions.feeds import FEED_COLUMNS, Column
from disruptions.reference import read_reference

EARLIEST_DISRUPTION_DATE = _EARLIEST.isoformat()
# Dates and timestamps outside this window are quarantined. Nothing real falls outside
# it, and every component downstream must be able to carry what is loaded: pandas (which
# Great Expectations validates) holds timestamps only up to 2262, so a typo such as 2999
# would otherwise load and then break the validation of every later night.
SUPPORTED_DATES = ("1900-01-01", "2199-12-31")
INTEGER_MAX = 2_147_483_647  # raw.*.threat_score / member_count are INTEGER

DISRUPTION_STATUSES = ("claimed", "approved", "rejected", "withdrawn")
OCG_STATUSES = ("active", "archived")
ARCHIVE_REASONS = ("dismantled", "merged", "no_longer_meets_definition", "transferred", "other")


@dataclass(frozen=True)
class AllowedValues:
    values: tuple[str, ...]
    # How a reason describes the allowed values; long code lists are named, not listed.
    description: str


def load_reference_values(con: duckdb.DuckDBPyConnection) -> dict[str, AllowedValues]:
    """The allowed codes, from the reference tables dbt built from seeds/ (see
    transform.reference: an edited seed is loaded before the next ingest)."""
    reference = read_reference(con)

    def listed(values: tuple[str, ...]) -> AllowedValues:
        return AllowedValues(values, "expected " + ", ".join(values))

    return {
        "impact": listed(tuple(value.lower() for value in reference.impacts)),
        "strand": listed(tuple(value.lower() for value in reference.strands)),
        "tactic": listed(tuple(value.lower() for value in reference.tactics)),
        "band": listed(tuple(band.band.upper() for band in reference.bands)),
        "force": AllowedValues(
            tuple(code.upper() for code in reference.forces),
            "expected a force code from seeds/forces.csv",
        ),
        "lead_agency": AllowedValues(
            tuple(code.upper() for code in reference.lead_agencies),
            "expected a force, ROCU or partner agency code from seeds/",
        ),
        "disruption_status": listed(DISRUPTION_STATUSES),
        "ocg_status": listed(OCG_STATUSES),
        "archive_reason": listed(ARCHIVE_REASONS),
    }


def reference_parameters(feed: str, reference: dict[str, AllowedValues]) -> dict[str, object]:
    """The named parameters the rules of `checked_records_sql(feed, ...)` read: each of the
    feed's reference lists and the text describing it. Values reach SQL only as
    parameters, never as text."""
    parameters: dict[str, object] = {}
    for column in FEED_COLUMNS[feed]:
        if column.allowed:
            allowed = reference[column.allowed]
            parameters[f"allowed_{column.allowed}"] = list(allowed.values)
            parameters[f"allowed_{column.allowed}_description"] = allowed.description
    return parameters


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


def column_rules(column: Column) -> list[Rule]:
    name = column.name
    normal = f"n_{name}"
    present = f"t_{name} IS NOT NULL"
    rules: list[Rule] = []
    if column.required:
        rules.append(Rule(f"t_{name} IS NULL", f"'{name}: missing required field'"))
    if column.allowed:
        allowed = f"$allowed_{column.allowed}"
        rules.append(
            Rule(
                f"{normal} IS NOT NULL AND NOT list_contains({allowed}, {normal})",
                f"'{name}: value ' || {_quoted_value(column)} || "
                f"' not allowed (' || {allowed}_description || ')'",
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
        first, last = SUPPORTED_DATES
        rules.append(
            Rule(
                f"NOT CAST({normal} AS DATE) BETWEEN DATE '{first}' AND DATE '{last}'",
                f"'{name}: ' || {_quoted_value(column)} || "
                f"' is outside the supported range {first} to {last}'",
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


def feed_rules(feed: str) -> list[Rule]:
    rules: list[Rule] = []
    for column in FEED_COLUMNS[feed]:
        rules.extend(column_rules(column))
    return rules + cross_column_rules(feed)


def checked_records_sql(feed: str, source_sql: str) -> str:
    """SELECT over the source with normalised values `n_<col>`, `is_bad` and `reasons`.

    The source must expose record_number, line_number, record_json and one VARCHAR column
    per feed column (NULL when the file lacks it). Each layer computes its expressions
    once: trimmed values, then normalised ones, then one flag per rule. The allowed values
    are the named parameters of `reference_parameters`.
    """
    columns = FEED_COLUMNS[feed]
    rules = feed_rules(feed)
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
