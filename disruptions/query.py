"""`disruptions query` and `disruptions export`: read the published marts, never write.

Readers only ever open the published file (never the working warehouse), and they open it
so that SQL cannot change anything or reach the rest of the disk:

1. the connection is read-only, so INSERT/UPDATE/CREATE on the file fail in DuckDB itself;
2. external access is switched off and the configuration locked, so ATTACH, COPY ... TO,
   read_csv('/etc/...'), INSTALL and LOAD cannot touch another file ("files outside the
   landing folder are never read"), and a query cannot switch that back on;
3. before running anything we parse the text and accept only SELECT-like statements, so a
   refusal reads as one clear line instead of whatever error DuckDB happens to raise.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import stat
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from disruptions.config import QUERIES_DIR, Settings
from disruptions.errors import UserError

OUTPUT_FORMATS = ("table", "csv", "json")
EXPORT_FORMATS = ("csv", "parquet", "xlsx")

# Statement kinds a reader may run. DESCRIBE, SHOW, SUMMARIZE and WITH parse as SELECT.
_ALLOWED_STATEMENTS = {"SELECT", "EXPLAIN"}

# OWASP CSV-injection guidance: a spreadsheet treats a cell starting with one of these as
# a formula (or, for tab and CR, may shift it into one).
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_SAVED_QUERY_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")

# The table view is for reading at a terminal; beyond this, csv or json is the better tool.
TABLE_ROW_LIMIT = 1000
_XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row


# --- opening the published file ---------------------------------------------------------


@contextmanager
def open_published(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the published file read-only, with no access to any other file."""
    path = settings.published_path
    if not path.is_file():
        raise UserError(
            f"{path}: no published marts yet; run `disruptions run` (or `disruptions demo`) first"
        )
    try:
        con = duckdb.connect(
            str(path),
            read_only=True,
            config={
                "enable_external_access": False,
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                "lock_configuration": True,
            },
        )
    except duckdb.Error as error:
        raise UserError(f"{path}: cannot open the published marts: {_one_line(error)}") from None
    try:
        yield con
    finally:
        con.close()


def _one_line(error: BaseException) -> str:
    """DuckDB's messages carry a caret diagram over several lines; the first says it all."""
    text = str(error).strip()
    return text.splitlines()[0].strip() if text else type(error).__name__


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
        raise UserError(f"SQL error: {_one_line(error)}") from None
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


def run_query(settings: Settings, sql: str, output_format: str = "table") -> str:
    """Run one read-only statement on the published marts and format the result."""
    if output_format not in OUTPUT_FORMATS:
        raise UserError(
            f"unknown output format {output_format!r}; use one of {', '.join(OUTPUT_FORMATS)}"
        )
    text = resolve_sql(sql)
    with open_published(settings) as con:
        check_read_only(con, text)
        try:
            cursor = con.execute(text)
            columns = [column[0] for column in cursor.description or []]
            types = [str(column[1]) for column in cursor.description or []]
            rows = cursor.fetchall()
        except duckdb.Error as error:
            raise UserError(f"SQL error: {_one_line(error)}") from None
    if output_format == "csv":
        return format_csv(columns, rows)
    if output_format == "json":
        return format_json(columns, rows)
    return format_table(columns, types, rows)


# --- formatting -----------------------------------------------------------------------------


def escape_formula(value: Any) -> Any:
    """Prefix a text cell a spreadsheet would read as a formula with a single quote.

    Only text is touched: a genuine negative number stays a number.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
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
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _cell_text(value: Any) -> str:
    value = _plain(value)
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
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def format_json(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    records = [
        {column: _plain(value) for column, value in zip(columns, row, strict=True)} for row in rows
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


# --- the export command ----------------------------------------------------------------------


def list_marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        """
        SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'marts' AND table_catalog = current_database()
        ORDER BY table_name
        """
    ).fetchall()
    return [row[0] for row in rows]


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def export_mart(
    settings: Settings, mart: str, output_format: str = "csv", out: str | Path | None = None
) -> Path:
    """Write one published mart to csv, parquet or xlsx; text cells are formula-safe."""
    if output_format not in EXPORT_FORMATS:
        raise UserError(
            f"unknown export format {output_format!r}; use one of {', '.join(EXPORT_FORMATS)}"
        )
    with open_published(settings) as con:
        marts = list_marts(con)
        # The name only reaches SQL as the catalog's own spelling of an existing table.
        matches = [name for name in marts if name == mart.strip()]
        if not matches:
            raise UserError(f"no mart named {mart!r}; marts: {', '.join(marts) or '(none)'}")
        relation = con.sql(f"SELECT * FROM marts.{_quote_identifier(matches[0])}")
        target = Path(out) if out else settings.home / "exports" / f"{matches[0]}.{output_format}"
        target = Path(os.path.abspath(target))  # symlinks are refused, not followed
        if output_format == "parquet":
            table = relation.to_arrow_table()
            write_atomically(target, lambda path: _write_parquet(table, path))
        else:
            columns = list(relation.columns)
            rows = relation.fetchall()
            if output_format == "csv":
                data = format_csv(columns, rows)
                write_atomically(target, lambda path: path.write_text(data, encoding="utf-8"))
            else:
                if len(rows) > _XLSX_MAX_ROWS:
                    raise UserError(
                        f"{matches[0]} has {len(rows)} rows, more than an Excel sheet holds; "
                        "export it as csv or parquet instead"
                    )
                write_atomically(target, lambda path: _write_xlsx(matches[0], columns, rows, path))
    return target


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def new_file_mode() -> int:
    """What open() would give a new file under this process's umask (mkstemp gives 0600,
    which would hide a report or export from the colleagues it is for)."""
    return 0o666 & ~_umask()


def new_folder_mode() -> int:
    """What mkdir() would give a new folder under this process's umask (mkdtemp: 0700)."""
    return 0o777 & ~_umask()


def check_output_path(target: Path) -> None:
    """A command writes only to a new path or over a regular file, never through a symlink
    or over a folder, device or pipe (as root, replacing /dev/null would be harm), and
    refuses an impossible path in one line. Creates the missing parent folders."""
    try:
        existing = os.lstat(target)
    except FileNotFoundError:
        existing = None
    except OSError as error:  # e.g. a file used as a folder on the way
        raise UserError(f"{target}: cannot write there: {error.strerror}") from None
    if existing is not None and stat.S_ISLNK(existing.st_mode):
        raise UserError(f"{target}: is a symbolic link; give a regular file or a new path")
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        raise UserError(
            f"{target}: is not a regular file (a folder, device or pipe); give a regular file "
            "or a new path"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"{target.parent}: cannot create the folder: {error.strerror}") from None


def write_atomically(target: Path, write) -> None:
    """Write beside the target and swap it in, so a reader never sees half a file.
    The target must pass `check_output_path`."""
    check_output_path(target)
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as error:
        raise UserError(f"{target}: cannot write there: {error.strerror or error}") from None
    os.close(handle)
    temp_path = Path(temp_name)
    try:
        write(temp_path)
        os.chmod(temp_path, new_file_mode())
        os.replace(temp_path, target)
    except OSError as error:
        raise UserError(f"{target}: cannot write: {error.strerror or error}") from None
    finally:
        temp_path.unlink(missing_ok=True)


def _write_parquet(table, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, path)


# Control characters an XLSX cell cannot hold (openpyxl refuses them); each is shown as
# its Unicode "control picture" instead (\x0b becomes \u240b), so the cell still says
# something was there.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xlsx_text(value: str) -> str:
    return _XLSX_ILLEGAL.sub(lambda match: chr(0x2400 + ord(match.group())), value)


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, dict | list | tuple):
        value = json.dumps(_plain(value), ensure_ascii=False)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        value = _xlsx_text(value)
    return escape_formula(value)


def _write_xlsx(sheet_name: str, columns: Sequence[str], rows, path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_name[:31])
    sheet.append([escape_formula(_xlsx_text(column)) for column in columns])
    for row in rows:
        sheet.append([_xlsx_value(value) for value in row])
    workbook.save(path)
