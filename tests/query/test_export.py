"""`disruptions export`: a published mart to csv, parquet or xlsx, safe to open in Excel."""

from __future__ import annotations

import csv

import duckdb
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from disruptions.config import PUBLIC_MARTS, SEEDS_DIR
from disruptions.errors import UserError
from disruptions.serve.export import export_mart

TACTICS_SEED = SEEDS_DIR / "tactics.csv"

# The OWASP CSV-injection cases, and text that merely looks like a number.
HOSTILE_TEXT = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A9)", "\tTAB", "\rCR", "plain"]


@pytest.fixture
def probe(published):
    """A mart holding hostile text beside genuine negative numbers."""
    con = duckdb.connect(str(published.published_path))
    con.execute("CREATE TABLE marts.injection_probe (label VARCHAR, amount INTEGER, ratio DOUBLE)")
    for index, text in enumerate(HOSTILE_TEXT):
        con.execute("INSERT INTO marts.injection_probe VALUES (?, ?, ?)", [text, -2 - index, -0.5])
    con.close()
    return published


def _escaped(text):
    return "'" + text if text[0] in "=+-@\t\r" else text


def test_csv_export_escapes_formula_text_and_keeps_negative_numbers(probe):
    path = export_mart(probe, "injection_probe", "csv")
    assert path == probe.home / "exports" / "injection_probe.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["label", "amount", "ratio"]
    assert [row[0] for row in rows[1:]] == [_escaped(text) for text in HOSTILE_TEXT]
    assert [row[1] for row in rows[1:]] == [str(-2 - index) for index in range(len(HOSTILE_TEXT))]
    assert {row[2] for row in rows[1:]} == {"-0.5"}


def test_xlsx_export_escapes_formula_text_and_keeps_negative_numbers_numeric(probe, tmp_path):
    path = export_mart(probe, "injection_probe", "xlsx", out=tmp_path / "probe.xlsx")
    sheet = load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("label", "amount", "ratio")
    # XML turns a stored carriage return into a line feed; the quote prefix is what counts.
    expected = [_escaped(text).replace("\r", "\n") for text in HOSTILE_TEXT]
    assert [row[0] for row in rows[1:]] == expected
    assert [row[1] for row in rows[1:]] == [-2 - index for index in range(len(HOSTILE_TEXT))]
    # No cell was stored as a formula.
    types = {cell.data_type for row in sheet.iter_rows() for cell in row}
    assert "f" not in types
    assert {type(row[2]) for row in rows[1:]} == {float}


def test_parquet_export_keeps_types_and_values_exactly(probe):
    path = export_mart(probe, "injection_probe", "parquet")
    table = pq.read_table(path)
    assert table.column("label").to_pylist() == HOSTILE_TEXT
    assert table.column("amount").to_pylist() == [-2 - i for i in range(len(HOSTILE_TEXT))]


def test_exported_mart_matches_the_published_mart(published):
    path = export_mart(published, "ocg_disruption_summary", "csv")
    con = duckdb.connect(str(published.published_path), read_only=True)
    expected = con.execute(
        "SELECT count(*), sum(net_disruption_score) FROM marts.ocg_disruption_summary"
    ).fetchone()
    con.close()
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert (len(rows), sum(int(row["net_disruption_score"]) for row in rows)) == expected


@pytest.mark.parametrize("mart", PUBLIC_MARTS)
def test_every_public_mart_exports_whole_with_its_columns(published, mart):
    path = export_mart(published, mart, "csv")
    con = duckdb.connect(str(published.published_path), read_only=True)
    cursor = con.execute(f"SELECT * FROM marts.{mart}")
    columns = [column[0] for column in cursor.description]
    count = len(cursor.fetchall())
    con.close()
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == columns
    assert len(rows) - 1 == count > 0


@pytest.mark.parametrize(
    "name",
    ["no_such_mart", "ocg_disruption_summary; DROP TABLE x", 'x" OR 1=1 --', "load_batches"],
)
def test_only_existing_marts_can_be_exported(published, name):
    with pytest.raises(UserError, match="no mart named .*marts: .*ocg_disruption_summary"):
        export_mart(published, name, "csv")


def test_unknown_export_format_is_refused(published):
    with pytest.raises(UserError, match="unknown export format"):
        export_mart(published, "ocg_disruption_summary", "docx")


def test_cli_export_prints_where_the_file_went(published, capsys):
    from disruptions.cli import main

    assert main(["export", "tactic_effectiveness", "--format", "xlsx"]) == 0
    path = published.home / "exports" / "tactic_effectiveness.xlsx"
    assert capsys.readouterr().out.strip() == f"wrote {path}"
    # A header, then one row per tactic of the seed (those never used too).
    assert load_workbook(path).active.max_row == 1 + len(TACTICS_SEED.read_text().splitlines()) - 1


@pytest.mark.parametrize("output_format", ["csv", "parquet", "xlsx"])
def test_exports_get_the_usual_file_mode_not_owner_only(published, output_format):
    import os
    import stat

    old = os.umask(0o022)
    try:
        path = export_mart(published, "tactic_effectiveness", output_format)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
