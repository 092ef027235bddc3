"""Writing the feed files: one per sender and year (or a single one), chunk by chunk."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from disruptions.synth.assessments import AssessmentRows
from disruptions.synth.claims import Context


class FeedFiles:
    """The output files, each opened on first use and appended to chunk by chunk."""

    def __init__(self, out_dir: Path, file_format: str) -> None:
        self.out_dir = out_dir
        self.file_format = file_format
        self.writers: dict[Path, object] = {}
        self.rows: dict[str, int] = {}

    def write(self, relative_path: str, feed: str, table: pa.Table) -> None:
        path = self.out_dir / relative_path
        writer = self.writers.get(path) or self._open(path, table.schema)
        if self.file_format == "jsonl":
            lines = (json.dumps(row, ensure_ascii=False) + "\n" for row in table.to_pylist())
            writer.write("".join(lines))
        else:
            writer.write_table(table)
        self.rows[feed] = self.rows.get(feed, 0) + table.num_rows

    def _open(self, path: Path, schema: pa.Schema):
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.file_format == "csv":
            options = pa_csv.WriteOptions(quoting_style="needed")
            writer = pa_csv.CSVWriter(str(path), schema, write_options=options)
        elif self.file_format == "parquet":
            writer = pq.ParquetWriter(str(path), schema)
        else:
            writer = path.open("w", encoding="utf-8", newline="\n")
        self.writers[path] = writer
        return writer

    def close(self) -> list[Path]:
        for writer in self.writers.values():
            writer.close()
        return sorted(self.writers)


def _years(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _write_by_sender_year(
    files: FeedFiles,
    ctx: Context,
    feed: str,
    table: pa.Table,
    sender_force: np.ndarray,
    sent_day: np.ndarray,
    layout: str,
) -> None:
    """One file per sending ROCU (the ROCU of the row's force) and calendar year sent."""
    if layout == "single":
        files.write(f"{feed}.{files.file_format}", feed, table)
        return
    key = ctx.ref.force_rocu_index[sender_force] * 10_000 + _years(sent_day)

    def path_for(key: int) -> str:
        rocu, year = ctx.ref.rocus[key // 10_000], key % 10_000
        return f"{rocu}/{feed}_{rocu}_{year}.{files.file_format}"

    _write_groups(files, feed, table, key, path_for)


NATIONAL_REVIEW_FILE = "ocg_assessments_national_review"


def _write_resent(files: FeedFiles, rows: AssessmentRows) -> None:
    """Corrected assessments, re-sent by the national mapping review in one file at the top
    of the landing folder.

    Ingest loads files in path order, and this lower-case name sorts after every upper-case
    ROCU folder, so each correction is loaded after the row it replaces, and no file holds the
    same key twice. One small file rather than one per ROCU: a tiny batch from a sender with
    history would also trip the batch-volume warning.
    """
    files.write(f"{NATIONAL_REVIEW_FILE}.{files.file_format}", "ocg_assessments", rows.table)


def _write_groups(files: FeedFiles, feed: str, table: pa.Table, key: np.ndarray, path_for):
    # A stable sort keeps the rows of each file in the order they were made.
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    cuts = np.flatnonzero(np.diff(sorted_key)) + 1
    for start, stop in zip(np.r_[0, cuts], np.r_[cuts, len(key)], strict=True):
        part = table.take(pa.array(order[start:stop]))
        files.write(path_for(int(sorted_key[start])), feed, part)
