"""Deliberately bad input: spoiled rows inside normal files, and whole bad files."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from disruptions.synth.claims import Context
from disruptions.synth.columns import ASSESSMENT_SCHEMA, DISRUPTION_COLUMNS
from disruptions.synth.streams import EPOCH

BAD_FEEDS_FOLDER = "BADFEEDS"
# Share of a file's rows given each kind of bad (or messy) value.
BAD_ROW_FRACTION = 0.0004


class _EditableColumns(dict):
    """A table's columns as editable numpy arrays, converted only when first used."""

    def __init__(self, table: pa.Table) -> None:
        super().__init__()
        self.table = table

    def __missing__(self, name: str) -> np.ndarray:
        self[name] = self.table.column(name).to_numpy(zero_copy_only=False).copy()
        return self[name]


def _spoil_rows(table: pa.Table, rng: np.random.Generator, spoilers: list) -> tuple[pa.Table, int]:
    """Apply each spoiler to its own few rows; return the table and how many rows are bad.

    A spoiler is (column, make_value(columns, row, number), is_bad). Messy-but-valid
    spellings are spoilers too, but they do not count as bad rows.
    """
    per_kind = max(1, round(table.num_rows * BAD_ROW_FRACTION))
    if table.num_rows < per_kind * len(spoilers):
        return table, 0
    chosen = rng.choice(table.num_rows, size=per_kind * len(spoilers), replace=False)
    columns = _EditableColumns(table)
    bad_rows = 0
    for kind, (column, make_value, is_bad) in enumerate(spoilers):
        rows = np.sort(chosen[kind * per_kind : (kind + 1) * per_kind])
        for number, row in enumerate(rows):
            columns[column][row] = make_value(columns, row, number)
        bad_rows += len(rows) if is_bad else 0
    arrays = [
        pa.array(columns[name].tolist(), table.schema.field(name).type)
        if name in columns
        else table.column(name)
        for name in table.column_names
    ]
    return pa.table(arrays, schema=table.schema), bad_rows


def _cycle(*values):
    return lambda columns, row, number: values[number % len(values)]


def _days_after(source_column: str, offset_days: int):
    def make(columns, row, number):
        base = date.fromisoformat(columns[source_column][row][:10])
        return (base + timedelta(days=offset_days + number % 30)).isoformat()

    return make


def _year_1999(column: str):
    return lambda columns, row, number: "1999" + columns[column][row][4:]


def _messy_spelling(column: str, style: str):
    """Valid after trimming and case-folding: what spreadsheets and old systems send."""

    def make(columns, row, number):
        value = columns[column][row]
        spelled = value.upper() if style == "upper" else value.lower()
        if number % 2:
            spelled = spelled.title() if style == "upper" else spelled
        return f"  {spelled} " if number % 3 else spelled

    return make


CLAIM_SPOILERS = [
    ("tactic", _cycle("covert_surveillance", "kneecapping", "TBC"), True),
    ("disruption_date", _cycle("31/02/2024", "2024-13-45", "last tuesday"), True),
    ("disruption_date", _days_after("recorded_at", 5), True),
    ("disruption_date", _year_1999("disruption_date"), True),
    ("impact", _cycle(None), True),
    ("ocg_id", _cycle(None), True),
    ("impact", _messy_spelling("impact", "upper"), False),
    ("strand", _messy_spelling("strand", "upper"), False),
    ("status", _messy_spelling("status", "upper"), False),
    ("force_area", _messy_spelling("force_area", "lower"), False),
]

ASSESSMENT_SPOILERS = [
    ("threat_score", _cycle(-1, -7, -30), True),
    ("assessed_on", _cycle("2023-02-30", "30/06/2024", "Q3 2024"), True),
    ("band", _cycle(None), True),
    ("status", _messy_spelling("status", "upper"), False),
    ("lead_force", _messy_spelling("lead_force", "lower"), False),
]


def _bad_feed_rows(ctx: Context) -> list[dict[str, str]]:
    """A few otherwise valid claims for the bad files, dated a month before the end."""
    day = date.fromordinal(EPOCH.toordinal() + ctx.end_day - 30)
    force = ctx.ref.forces[int(ctx.ocgs.lead_force[0])]
    return [
        {
            "disruption_id": f"DIS-X{number:07d}",
            "ocg_id": "OCG-000001",
            "disruption_date": day.isoformat(),
            "recorded_at": f"{(day + timedelta(days=2)).isoformat()}T10:1{number}:00Z",
            "impact": ("moderate", "minor", "major")[number % 3],
            "strand": "pursue",
            "tactic": ("drugs_seizure", "cash_seizure", "arrest")[number % 3],
            "lead_agency": force,
            "force_area": force,
            "status": "claimed",
            "operation": "Op KESTREL",
            "rationale": (
                'SENSITIVE: CHIS WREN-04 says "the lock-up, behind 12 Dyers Lane, Fenbury",\n'
                "handler DS Quill, keep, off, the, record"
            ),
        }
        for number in range(1, 4)
    ]


def _csv_text(rows: list[dict[str, str]], columns, line_end: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator=line_end)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _write_bad_files(out_dir: Path, ctx: Context) -> list[Path]:
    """Whole files that test file-level handling, always CSV, in their own sender folder."""
    folder = out_dir / BAD_FEEDS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    rows = _bad_feed_rows(ctx)
    without_status = [c for c in DISRUPTION_COLUMNS if c != "status"]
    contents = {
        "disruptions_BADFEEDS_missing_status_column.csv": _csv_text(
            [{c: row[c] for c in without_status} for row in rows], without_status
        ).encode(),
        "disruptions_BADFEEDS_empty.csv": b"",
        "ocg_assessments_BADFEEDS_header_only.csv": (",".join(ASSESSMENT_SCHEMA.names) + "\n")
        .encode(),
        "disruptions_BADFEEDS_latin1.csv": _csv_text(
            [{**row, "operation": "Op CAFÉ", "rationale": "SENSITIVE: handler DS Müller"}
             for row in rows],
            DISRUPTION_COLUMNS,
        ).encode("latin-1"),
        "disruptions_BADFEEDS_excel_export.csv": "\ufeff".encode()
        + _csv_text(rows, DISRUPTION_COLUMNS, line_end="\r\n").encode(),
    }  # fmt: skip
    # The same bytes again under another name: a duplicate file, loaded once.
    contents["disruptions_BADFEEDS_excel_export_resent.csv"] = contents[
        "disruptions_BADFEEDS_excel_export.csv"
    ]
    written = []
    for name, data in contents.items():
        (folder / name).write_bytes(data)
        written.append(folder / name)
    return written
