"""Hypothesis strategies for hostile landing files, in every accepted format.

Each file mixes mutated and plausible rows: random bytes, broken or odd headers, other
encodings and line endings, extreme and out-of-range values, control characters, huge
fields and duplicate keys. Wherever a file has a rationale, it holds SENTINEL, which
must then appear nowhere outside the working warehouse.
"""

from __future__ import annotations

import csv
import io
import json
import string

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st

from disruptions.feeds import FEED_COLUMN_NAMES

SENTINEL = "FUZZ-RATIONALE-SENTINEL-5e1d"
FEED_COLUMNS = {feed: list(columns) for feed, columns in FEED_COLUMN_NAMES.items()}
PLAUSIBLE = {
    "disruption_id": st.sampled_from(["D-1", "D-2", "D-3", "d-1", " D-4 "]),
    "ocg_id": st.sampled_from(["OCG-1", "OCG-2", "ocg-1", "OCG-9"]),
    "disruption_date": st.sampled_from(["2025-01-01", "2026-06-30", "2024-02-29"]),
    "recorded_at": st.sampled_from(
        ["2026-07-01T10:00:00Z", "2026-07-01", "2026-07-01 10:00:00+01:00", "2026-07-01T10:00"]
    ),
    "impact": st.sampled_from(["major", "Moderate", " minor ", "none", "NEGATIVE"]),
    "strand": st.sampled_from(["pursue", "prevent", "protect", "prepare"]),
    "tactic": st.sampled_from(["arrest", "drugs_seizure", "other"]),
    "lead_agency": st.sampled_from(["NCA", "gmp", "EMSOU"]),
    "force_area": st.sampled_from(["GMP", "MPS", "derbys"]),
    "status": st.sampled_from(["approved", "claimed", "withdrawn"]),
    "operation": st.sampled_from(["", "Op Alpha", "Op Ç"]),
    "assessed_on": st.sampled_from(["2025-01-01", "2026-01-01", "2026-09-30"]),
    "threat_score": st.sampled_from(["0", "40", "99"]),
    "band": st.sampled_from(["1A", "2b", "3C"]),
    "archive_reason": st.just(""),
    "lead_force": st.sampled_from(["GMP", "MPS"]),
    "principal_activity": st.sampled_from(["", "drugs supply"]),
    "member_count": st.sampled_from(["", "5", "40"]),
}
EXTREME_VALUES = [
    "",
    " ",
    "0001-01-01",
    "9999-12-31",
    "2999-01-01",
    "1899-12-31",
    "2026-02-30",
    "294247-01-10T04:00:54Z",
    "-1",
    "2147483647",
    "2147483648",
    "99999999999999999999",
    "1e309",
    "NaN",
    "NULL",
    "null",
    "=cmd|' /C calc'!A0",
    "<img src=x onerror=alert(1)>",
    "\x00",
    "\x1b[31mred",
    "a\nb",
    "a\r\nb",
    '"',
    "\u2028",
    "\ufeff",
    "ＭＡＪＯＲ",
    "x" * 70_000,
]
# Header spellings that must still be recognised (or refused) by the one normaliser.
NAME_MUTATIONS = [
    lambda name: name,
    lambda name: name.upper(),
    lambda name: f" {name} ",
    lambda name: f"\t{name}",
    lambda name: f"{name}\x00",
    lambda name: f"\u200b{name}",
    lambda name: name.replace("_", " "),
    lambda name: name + "_x",
]
TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FFF), max_size=12)


@st.composite
def rows(draw, feed: str, columns: list[str]) -> list[dict]:
    count = draw(st.integers(min_value=0, max_value=6))
    result = []
    for _ in range(count):
        row = {}
        for column in columns:
            base = column.strip().lower() if isinstance(column, str) else column
            if "rationale" in base:
                row[column] = f"{SENTINEL} {draw(TEXT)}"
            elif draw(st.integers(0, 5)) == 0:
                row[column] = draw(st.sampled_from(EXTREME_VALUES) | TEXT)
            else:
                row[column] = draw(PLAUSIBLE.get(base, TEXT))
        result.append(row)
    # A duplicate key: the same row again, maybe changed.
    if result and draw(st.booleans()):
        result.append(dict(result[0]))
    return result


@st.composite
def header(draw, feed: str) -> list[str]:
    columns = list(FEED_COLUMNS[feed])
    if draw(st.booleans()):
        columns = draw(st.permutations(columns))
    if draw(st.integers(0, 3)) == 0:
        columns = columns[: draw(st.integers(0, len(columns)))]
    mutate = draw(st.sampled_from(NAME_MUTATIONS))
    columns = [mutate(column) if draw(st.booleans()) else column for column in columns]
    if draw(st.integers(0, 4)) == 0:
        columns.append(draw(st.sampled_from(["notes", "rationale", "Rationale ", "x" * 200_000])))
    if draw(st.integers(0, 6)) == 0:
        columns.append(columns[0] if columns else "ocg_id")
    return columns


def _csv_bytes(columns, data, newline: str, encoding: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(columns)
    for row in data:
        writer.writerow([row.get(column, "") for column in columns])
    text = buffer.getvalue()
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


@st.composite
def csv_file(draw, feed: str) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=300))
    columns = draw(header(feed))
    data = draw(rows(feed, columns))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r", "\n\n"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    content = _csv_bytes(columns, data, newline, encoding)
    if draw(st.integers(0, 6)) == 0 and content:  # cut mid-record
        content = content[: draw(st.integers(0, len(content)))]
    return content


@st.composite
def jsonl_file(draw, feed: str) -> bytes:
    columns = draw(header(feed))
    lines = []
    for row in draw(rows(feed, columns)):
        kind = draw(st.integers(0, 12))
        if kind == 0:
            lines.append(draw(st.sampled_from(["[1, 2]", "42", '"text"', "{not json", "null"])))
        elif kind == 1:
            lines.append(json.dumps({**row, "nested": {"rationale": SENTINEL}}))
        else:
            lines.append(json.dumps(row, ensure_ascii=draw(st.booleans())))
    if draw(st.booleans()):
        lines.insert(0, "")
    return ("\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"]))).encode("utf-8")


def _arrow_column(draw, values: list[str]):
    kind = draw(st.sampled_from(["string", "int", "float", "bool", "timestamp", "binary"]))
    if kind == "string":
        return pa.array(values, pa.string())
    if kind == "int":
        return pa.array(
            [draw(st.integers(min_value=-(2**63), max_value=2**63 - 1)) for _ in values],
            pa.int64(),
        )
    if kind == "float":
        return pa.array([draw(st.floats(allow_nan=True)) for _ in values], pa.float64())
    if kind == "bool":
        return pa.array([draw(st.booleans()) for _ in values], pa.bool_())
    if kind == "timestamp":
        return pa.array(
            [draw(st.integers(min_value=-(2**50), max_value=2**50)) for _ in values],
            pa.timestamp("us"),
        )
    return pa.array([value.encode("utf-8", "surrogatepass") for value in values], pa.binary())


@st.composite
def parquet_file(draw, feed: str) -> bytes:
    columns = list(dict.fromkeys(draw(header(feed))))  # parquet needs unique names
    data = draw(rows(feed, columns))
    arrays = []
    for column in columns:
        values = [str(row.get(column, "")) for row in data]
        if "rationale" in column.lower():
            arrays.append(pa.array(values, pa.string()))
        else:
            arrays.append(
                _arrow_column(draw, values)
                if draw(st.integers(0, 4)) == 0
                else pa.array(values, pa.string())
            )
    table = pa.table(arrays, names=columns) if columns else pa.table({})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    content = sink.getvalue()
    if draw(st.integers(0, 8)) == 0:
        content = content[: draw(st.integers(0, len(content)))]
    return content


SAFE_NAME = st.text(alphabet=string.ascii_letters + string.digits + "_- '$[]\n()", max_size=8)


@st.composite
def hostile_file(draw) -> tuple[str, bytes]:
    feed = draw(st.sampled_from(list(FEED_COLUMNS)))
    file_format = draw(st.sampled_from([".csv", ".jsonl", ".parquet"]))
    maker = {".csv": csv_file, ".jsonl": jsonl_file, ".parquet": parquet_file}[file_format]
    name = f"{feed}_{draw(SAFE_NAME)}{file_format}"
    return name, draw(maker(feed))


def hostile_landing():
    """Up to six hostile files with distinct names."""
    return st.lists(hostile_file(), min_size=1, max_size=6, unique_by=lambda item: item[0])
