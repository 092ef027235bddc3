"""Formatting query results for a terminal, CSV and JSON, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

# OWASP CSV-injection guidance: a spreadsheet treats a cell starting with one of these as
# a formula (or, for tab and CR, may shift it into one).
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# The table view is for reading at a terminal; beyond this, csv or json is the better tool.
TABLE_ROW_LIMIT = 1000


# --- formatting -----------------------------------------------------------------------------


def escape_formula(value: Any) -> Any:
    """Prefix a text cell a spreadsheet would read as a formula with a single quote.

    Only text is touched: a genuine negative number stays a number.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


def plain(value: Any) -> Any:
    """A JSON- and CSV-friendly form of a DuckDB value."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def _cell_text(value: Any) -> str:
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def format_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    # RFC 4180 line ends: with "\n" alone, a field holding "\r" would go out unquoted.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([escape_formula(column) for column in columns])
    for row in rows:
        writer.writerow([escape_formula(_csv_value(value)) for value in row])
    return buffer.getvalue()


def _csv_value(value: Any) -> Any:
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def format_json(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    records = [
        {column: plain(value) for column, value in zip(columns, row, strict=True)} for row in rows
    ]
    return json.dumps(records, ensure_ascii=False, indent=2, default=str) + "\n"


_NUMERIC_TYPES = re.compile(
    r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT"
    r"|FLOAT|DOUBLE|DECIMAL.*|REAL)$"
)


def format_table(
    columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]]
) -> str:
    """Aligned columns for a terminal: numbers right, text left, NULL as blank."""
    shown = rows[:TABLE_ROW_LIMIT]
    cells = [[_cell_text(value).replace("\n", " ") for value in row] for row in shown]
    widths = [len(column) for column in columns]
    for row in cells:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    numeric = [bool(_NUMERIC_TYPES.match(kind)) for kind in types]

    def line(values: Sequence[str]) -> str:
        parts = [
            value.rjust(width) if is_number else value.ljust(width)
            for value, width, is_number in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(columns), "  ".join("-" * width for width in widths)]
    out.extend(line(row) for row in cells)
    count = len(rows)
    footer = f"({count} row{'s' if count != 1 else ''})"
    if count > len(shown):
        footer = f"({count} rows; showing the first {len(shown)}: use --format csv or json for all)"
    out.append(footer)
    return "\n".join(out) + "\n"
