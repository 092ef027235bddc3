"""Turn one landing file into a SQL relation DuckDB can validate, whatever its format.

Every reader returns a `FileSource` whose SQL exposes the same columns: record_number
(1-based, in file order), line_number (provisional, see `line_number_map_sql`),
record_json (the original values, every column as read) and one VARCHAR column per
feed column, NULL when the file lacks that (optional) column. Nothing is read row by
row in Python: DuckDB reads every value as text and the rules in rules.py type it.

The file's path reaches SQL only as the named parameter `$source_path` (FILE_PARAMETER),
never as text: a landing or home folder may hold quotes or any other character.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from disruptions.feeds import FEED_COLUMNS, normalise_column_name
from disruptions.logs import printable

HEADER_PEEK_BYTES = 1 << 20
FILE_PARAMETER = "source_path"
CSV_OPTIONS = (
    "auto_detect=false, header=true, delim=',', quote='\"', escape='\"', "
    "strict_mode=true, null_padding=false"
)
# DuckDB's CSV errors quote the offending line, which may hold sensitive free text. Only
# DuckDB's own first line and these explanations are kept in messages and alerts.
KNOWN_EXPLANATIONS = (
    "Expected Number of Columns",
    "Value with unterminated quote",
    "Invalid unicode",
    "Maximum line size",
)


class UnreadableFile(Exception):
    """The file cannot be read as its format, or lacks required columns."""


@dataclass
class FileSource:
    sql: str
    # Added to record_number to give the provisional line number (the CSV header is line 1).
    header_lines: int
    # The records there would be if each took exactly one line (for parquet: the row count).
    # Fewer records means some span lines, or blank lines were skipped. For CSV and JSONL
    # it comes from the file's line count, taken by its fingerprint (count_lines), which
    # may still be running on another thread while the file loads.
    one_per_line_records: int | None
    # The named parameters its SQL reads: the file's path, its column names as written.
    parameters: dict[str, object]
    warnings: list[str] = field(default_factory=list)
    # The same relation with record_number and line_number NULL, for readers that can
    # only number records with row_number() OVER (): that window makes DuckDB read the
    # file on one thread. None when the reader numbers records for free (parquet).
    unnumbered_sql: str | None = None


def count_lines(source: FileSource, physical_lines: int) -> None:
    """Set a CSV or JSONL source's one_per_line_records from the file's line count."""
    if source.one_per_line_records is None:
        source.one_per_line_records = physical_lines - source.header_lines


def file_parameters(path: Path) -> dict[str, str]:
    """The parameters every SQL text of a FileSource needs."""
    return {FILE_PARAMETER: str(path)}


def map_feed_columns(feed: str, names: list[str]) -> tuple[dict[str, int], list[str]]:
    """Match file column names to the feed's columns by `normalise_column_name`.

    Returns {feed column: position in the file} and warnings for ignored columns.
    """
    positions: dict[str, int] = {}
    for position, name in enumerate(names):
        key = normalise_column_name(name)
        if key in positions:
            raise UnreadableFile(f"column '{key}' appears more than once")
        positions[key] = position
    expected = {column.name for column in FEED_COLUMNS[feed]}
    missing = [c.name for c in FEED_COLUMNS[feed] if c.required and c.name not in positions]
    if missing:
        raise UnreadableFile("missing required columns: " + ", ".join(missing))
    extra = [
        printable(names[position], 60) for key, position in positions.items() if key not in expected
    ]
    warnings = ["ignored extra columns: " + ", ".join(extra)] if extra else []
    return {key: pos for key, pos in positions.items() if key in expected}, warnings


def _feed_column_list(feed: str, values: dict[str, str]) -> str:
    """`value AS column` for every feed column, NULL for the ones the file lacks."""
    return ", ".join(
        f"{values.get(column.name, 'CAST(NULL AS VARCHAR)')} AS {column.name}"
        for column in FEED_COLUMNS[feed]
    )


def _record_json(names: list[str], expressions: list[str]) -> str:
    """json_object over the file's own column names, bound as parameters $record_key_<i>."""
    pairs = ", ".join(f"$record_key_{i}, {e}" for i, e in enumerate(expressions))
    return f"json_object({pairs})"


def _record_key_parameters(names: list[str]) -> dict[str, str]:
    return {f"record_key_{i}": name for i, name in enumerate(names)}


def read_csv_header(path: Path) -> list[str]:
    """The header row, parsed by Python's csv module from the first line only."""
    with open(path, "rb") as handle:
        head = handle.read(HEADER_PEEK_BYTES)
    if not head.strip():
        raise UnreadableFile("empty file: no header row")
    newline = head.find(b"\n")
    if newline < 0:
        if b"\r" in head:
            raise UnreadableFile(
                "lines end with CR only (old Mac format); save the file with LF or CRLF "
                "line endings"
            )
        if len(head) == HEADER_PEEK_BYTES:
            raise UnreadableFile(
                f"the header row is longer than {HEADER_PEEK_BYTES >> 20} MiB (no line break "
                "in the first MiB)"
            )
    first_line = head if newline < 0 else head[:newline]
    try:
        text = first_line.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            f"not valid UTF-8: byte 0x{first_line[error.start]:02X} in the header (line 1)"
        ) from None
    if "\r" in text:
        raise UnreadableFile(
            "the header row holds a CR line break (CR-only line endings?); save the file with "
            "LF or CRLF line endings"
        )
    if not text.strip():
        raise UnreadableFile("empty file: no header row")
    try:
        return next(csv.reader([text]))
    except csv.Error as error:  # e.g. a field longer than the csv module's limit
        raise UnreadableFile(f"the header row cannot be parsed as CSV: {error}") from None


def csv_source(path: Path, feed: str) -> FileSource:
    names = read_csv_header(path)
    positions, warnings = map_feed_columns(feed, names)
    # Positional names: the header is already known, and this keeps odd names out of SQL.
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(names)))
    values = {feed_column: f"c{pos}" for feed_column, pos in positions.items()}
    record = _record_json(names, [f"c{i}" for i in range(len(names))])

    def relation(record_number: str) -> str:
        return f"""
        SELECT record_number, record_number + 1 AS line_number, {record} AS record_json,
               {_feed_column_list(feed, values)}
        FROM (
            SELECT {record_number} AS record_number, *
            FROM read_csv(${FILE_PARAMETER}, columns={{{columns}}}, {CSV_OPTIONS})
        )
    """

    return FileSource(
        relation("row_number() OVER ()"),
        1,
        None,
        {**file_parameters(path), **_record_key_parameters(names)},
        warnings,
        unnumbered_sql=relation("CAST(NULL AS BIGINT)"),
    )


def _jsonl_relation(numbered: bool = True) -> str:
    record_number = "row_number() OVER ()" if numbered else "CAST(NULL AS BIGINT)"
    return (
        f"(SELECT {record_number} AS record_number, json "
        f"FROM read_json_objects(${FILE_PARAMETER}, format='newline_delimited'))"
    )


def jsonl_source(con: duckdb.DuckDBPyConnection, path: Path, feed: str) -> FileSource:
    relation = _jsonl_relation()
    parameters = file_parameters(path)
    not_object = con.execute(
        f"SELECT min(record_number) FROM {relation} WHERE json_type(json) <> 'OBJECT'",
        parameters,
    ).fetchone()[0]
    if not_object is not None:
        raise UnreadableFile(f"record {not_object} is not a JSON object")
    keys = [
        key
        for (key,) in con.execute(
            f"SELECT DISTINCT unnest(json_keys(json)) AS key FROM {relation} ORDER BY key",
            parameters,
        ).fetchall()
    ]
    if not keys:
        raise UnreadableFile("empty file: no JSON records")
    positions, warnings = map_feed_columns(feed, keys)
    # A key reaches SQL as a parameter. DuckDB reads a path that is not a JSON path ($...)
    # or pointer (/...) as a plain key; a key that names a feed column starts with neither,
    # since normalise_column_name keeps "$" and "/".
    values = {
        feed_column: f"json_extract_string(json, $json_key_{pos})"
        for feed_column, pos in positions.items()
    }
    parameters.update({f"json_key_{pos}": keys[pos] for pos in positions.values()})

    def select_from(relation: str) -> str:
        return f"""
        SELECT record_number, record_number AS line_number, json AS record_json,
               {_feed_column_list(feed, values)}
        FROM {relation}
    """

    return FileSource(
        select_from(relation),
        0,
        None,
        parameters,
        warnings,
        unnumbered_sql=select_from(_jsonl_relation(numbered=False)),
    )


def _parquet_value_as_text(column: str, column_type: str) -> str:
    """Parquet values as the text a CSV would carry. Tools that write integer columns with
    gaps as floating point (pandas) give 7.0 for 7, so whole floats lose their '.0'."""
    if column_type in ("FLOAT", "DOUBLE") or column_type.startswith("DECIMAL"):
        return (
            f"CASE WHEN {column} = trunc({column}) AND abs({column}) < 1e18 "
            f"THEN CAST(CAST({column} AS BIGINT) AS VARCHAR) ELSE CAST({column} AS VARCHAR) END"
        )
    return f"CAST({column} AS VARCHAR)"


def parquet_source(con: duckdb.DuckDBPyConnection, path: Path, feed: str) -> FileSource:
    scan = f"read_parquet(${FILE_PARAMETER}, file_row_number=true)"
    parameters = file_parameters(path)
    described = [
        (row[0], row[1])
        for row in con.execute(f"DESCRIBE SELECT * FROM {scan}", parameters).fetchall()
        if row[0] != "file_row_number"
    ]
    names = [name for name, _ in described]
    positions, warnings = map_feed_columns(feed, names)
    # Columns by position (#1, #2, ...): the file's names never enter the SQL text.
    as_text = [
        _parquet_value_as_text(f"#{index}", kind) for index, (_, kind) in enumerate(described, 1)
    ]
    values = {feed_column: as_text[pos] for feed_column, pos in positions.items()}
    sql = f"""
        SELECT file_row_number + 1 AS record_number, file_row_number + 1 AS line_number,
               {_record_json(names, as_text)} AS record_json,
               {_feed_column_list(feed, values)}
        FROM {scan}
    """
    rows = con.execute(f"SELECT count(*) FROM {scan}", parameters).fetchone()[0]  # footer
    return FileSource(sql, 0, rows, {**parameters, **_record_key_parameters(names)}, warnings)


def file_source(
    con: duckdb.DuckDBPyConnection, path: Path, file_format: str, feed: str
) -> FileSource:
    if file_format == ".csv":
        return csv_source(path, feed)
    if file_format == ".jsonl":
        return jsonl_source(con, path, feed)
    if file_format == ".parquet":
        return parquet_source(con, path, feed)
    raise UnreadableFile(f"unsupported format {file_format!r}")


def _physical_lines_sql() -> str:
    """Every physical line of a file with its 1-based number (reads the file as one string)."""
    return f"""
        SELECT unnest(range(1, len(parts) + 1)) AS line_number, unnest(parts) AS line
        FROM (SELECT string_split(content, chr(10)) AS parts
              FROM read_text(${FILE_PARAMETER}))
    """


def first_invalid_json_line(con: duckdb.DuckDBPyConnection, path: Path) -> int | None:
    """The first non-blank line that is not valid JSON. Error path only."""
    return con.execute(
        f"SELECT min(line_number) FROM ({_physical_lines_sql()}) "
        "WHERE trim(line, ' ' || chr(9) || chr(13)) <> '' AND NOT json_valid(line)",
        file_parameters(path),
    ).fetchone()[0]


def line_number_map_sql(file_format: str) -> str:
    """SELECT record_number, line_number: where each record starts in the file.

    Only needed when the file has more physical lines than records: a quoted CSV field
    holding a line break, or blank lines (which DuckDB skips). A CSV line starts a record
    when it is not blank and the quotes before it are balanced (RFC 4180 escapes a quote
    by doubling it, which keeps the count even). Reads the whole file as one string, so
    this path is for the unusual file, not the nightly bulk. Its parameters are
    `file_parameters(path)`.
    """
    lines = _physical_lines_sql()
    if file_format == ".csv":
        starts = """
            SELECT line_number FROM (
                SELECT line_number, line,
                    coalesce(sum(length(line) - length(replace(line, '"', ''))) OVER (
                        ORDER BY line_number ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
                    ), 0) AS quotes_before
                FROM lines
            ) WHERE line_number > 1 AND quotes_before % 2 = 0 AND rtrim(line, chr(13)) <> ''
        """
    else:
        starts = "SELECT line_number FROM lines WHERE trim(line, ' ' || chr(9) || chr(13)) <> ''"
    return f"""
        WITH lines AS ({lines}), starts AS ({starts})
        SELECT row_number() OVER (ORDER BY line_number) AS record_number, line_number
        FROM starts
    """


def first_invalid_utf8(path: Path) -> str | None:
    """Where the first byte that is not UTF-8 sits, e.g. 'byte 0xE9 at line 2'. Error path only."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # bytes handed to the decoder so far
    line = 1
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(1 << 20)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                # error.object is the decoder's held-back bytes (never a newline) + chunk.
                held_back = len(error.object) - len(chunk)
                position = offset - held_back + error.start
                line += error.object[: error.start].count(b"\n")
                bad = error.object[error.start]
                return f"byte 0x{bad:02X} at line {line} (byte offset {position})"
            if not chunk:
                return None
            offset += len(chunk)
            line += chunk.count(b"\n")


def describe_read_error(
    con: duckdb.DuckDBPyConnection,
    error: duckdb.Error,
    path: Path,
    file_format: str,
    display_name: str,
) -> str:
    """A one-line, data-free description of why DuckDB could not read the file."""
    if file_format in (".csv", ".jsonl"):
        where = first_invalid_utf8(path)
        if where:
            return f"not valid UTF-8: {where}; save the file as UTF-8"
    if file_format == ".jsonl":
        # DuckDB's own line count for JSON errors can be off by one; find the line ourselves.
        line = first_invalid_json_line(con, path)
        if line is not None:
            return f"cannot be read as jsonl: line {line} is not valid JSON"
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    first = re.sub(r"^[A-Za-z ]*Error: ", "", lines[0]) if lines else type(error).__name__
    explained = [line for line in lines[1:] if line.startswith(KNOWN_EXPLANATIONS)]
    message = " ".join([first, *explained]).replace(str(path), display_name)
    return f"cannot be read as {file_format.lstrip('.')}: {message}"
