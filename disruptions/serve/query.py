"""`disruptions query`: one read-only statement on the published marts.

Before running anything the text is parsed and only SELECT-like statements are accepted,
so a refusal reads as one clear line instead of whatever error DuckDB happens to raise;
the connection itself cannot write or reach another file (published.py).
"""

from __future__ import annotations

import re

import duckdb

from disruptions.config import QUERIES_DIR, Settings
from disruptions.engines import open_published
from disruptions.errors import UserError
from disruptions.serve.formats import format_csv, format_json, format_table
from disruptions.serve.published import first_line

OUTPUT_FORMATS = ("table", "csv", "json")

# Statement kinds a reader may run. DESCRIBE, SHOW, SUMMARIZE and WITH parse as SELECT.
_ALLOWED_STATEMENTS = {"SELECT", "EXPLAIN"}


_SAVED_QUERY_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


# --- the query command --------------------------------------------------------------------


def saved_queries() -> list[str]:
    """Names of the saved queries shipped in queries/."""
    return sorted(path.stem for path in QUERIES_DIR.glob("*.sql"))


def resolve_sql(sql_or_name: str) -> str:
    """The SQL to run: the text itself, or the contents of queries/<name>.sql."""
    text = sql_or_name.strip()
    if not text:
        raise UserError("no SQL given; pass a SELECT statement or a saved query name")
    if _SAVED_QUERY_NAME.match(text):
        name = text[:-4] if text.endswith(".sql") else text
        path = QUERIES_DIR / f"{name}.sql"
        if path.is_file():
            return path.read_text(encoding="utf-8")
        # A lone word is never a useful statement, so it was meant as a saved query.
        if not any(char in text for char in " \t\n(;"):
            raise UserError(
                f"no saved query named {text!r}; saved queries: {', '.join(saved_queries())}"
            )
    return text


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but a single SELECT-like statement, with one readable line."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as error:
        raise UserError(f"SQL error: {first_line(error)}") from None
    if not statements:
        raise UserError("no SQL statement given")
    if len(statements) > 1:
        raise UserError("one statement at a time, please: the SQL holds several")
    kind = statements[0].type.name
    if kind not in _ALLOWED_STATEMENTS:
        first_word = sql.strip().split(None, 1)[0].upper() if sql.strip() else kind
        raise UserError(
            f"queries are read-only: {first_word} ({kind}) statements are not allowed; "
            "use SELECT (or WITH, DESCRIBE, SHOW, SUMMARIZE) on the published marts"
        )


def run_query(
    settings: Settings, sql: str, output_format: str = "table", rocu: str | None = None
) -> str:
    """Run one read-only statement on the published marts (a ROCU's regional file with
    `rocu`) and format the result."""
    if output_format not in OUTPUT_FORMATS:
        raise UserError(
            f"unknown output format {output_format!r}; use one of {', '.join(OUTPUT_FORMATS)}"
        )
    text = resolve_sql(sql)
    with open_published(settings, rocu, named_in=text) as con:
        check_read_only(con, text)
        try:
            cursor = con.execute(text)
            columns = [column[0] for column in cursor.description or []]
            types = [str(column[1]) for column in cursor.description or []]
            rows = cursor.fetchall()
        except duckdb.Error as error:
            raise UserError(f"SQL error: {first_line(error)}") from None
    if output_format == "csv":
        return format_csv(columns, rows)
    if output_format == "json":
        return format_json(columns, rows)
    return format_table(columns, types, rows)
