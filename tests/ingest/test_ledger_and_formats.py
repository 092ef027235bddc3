"""The ledger (one row per file, idempotent by sha256) and the three input formats."""

from __future__ import annotations

import json

import duckdb
from ingest_helpers import ASSESSMENT_HEADER, DISRUPTION_HEADER, csv_text, disruption_row

ROWS = [
    disruption_row("D1"),
    disruption_row("D2", impact="Catastrophic", rationale="do not leak"),
    disruption_row("D3", impact=" minor ", recorded_at="2025-03-01T12:00:00+02:00"),
]


def records(header: str, rows: list[str]) -> list[dict]:
    names = header.split(",")
    return [dict(zip(names, row.split(","), strict=True)) for row in rows]


def write_jsonl(path, header, rows):
    path.write_text("".join(json.dumps(record) + "\n" for record in records(header, rows)))


def write_parquet(path, header, rows):
    con = duckdb.connect()
    names = header.split(",")
    values = ", ".join(
        "(" + ", ".join("'" + value.replace("'", "''") + "'" for value in record.values()) + ")"
        for record in records(header, rows)
    )
    con.execute(f"COPY (SELECT * FROM (VALUES {values}) AS t({', '.join(names)})) TO '{path}'")


def raw_values(query):
    return query(
        "SELECT * EXCLUDE (batch_id, source_file, loaded_at) FROM raw.disruptions "
        "ORDER BY batch_id, line_number"
    )


def test_csv_jsonl_and_parquet_load_the_same_values(settings, land, ingest, query):
    land("csv/disruptions.csv", csv_text(DISRUPTION_HEADER, *ROWS))
    (settings.landing / "jsonl").mkdir()
    write_jsonl(settings.landing / "jsonl/disruptions.jsonl", DISRUPTION_HEADER, ROWS)
    (settings.landing / "parquet").mkdir()
    write_parquet(settings.landing / "parquet/disruptions.parquet", DISRUPTION_HEADER, ROWS)
    summary = ingest()
    assert [
        (r.source_file, r.status, r.rows_loaded, r.rows_quarantined) for r in summary.batches
    ] == [
        ("csv/disruptions.csv", "loaded", 2, 1),
        ("jsonl/disruptions.jsonl", "loaded", 2, 1),
        ("parquet/disruptions.parquet", "loaded", 2, 1),
    ]
    per_file = query(
        "SELECT source_file, list((disruption_id, recorded_at, impact, line_number) "
        "ORDER BY line_number) FROM raw.disruptions GROUP BY 1 ORDER BY 1"
    )
    # CSV lines count the header; JSONL counts lines; parquet counts rows.
    csv_rows, jsonl_rows, parquet_rows = (rows for _, rows in per_file)
    assert [r[:3] for r in csv_rows] == [r[:3] for r in jsonl_rows] == [r[:3] for r in parquet_rows]
    assert [r[3] for r in csv_rows] == [2, 4] and [r[3] for r in jsonl_rows] == [1, 3]
    assert [r[3] for r in parquet_rows] == [1, 3]
    assert query(
        "SELECT source_file, line_number, record ->> 'impact' FROM audit.quarantine ORDER BY 1"
    ) == [
        ("csv/disruptions.csv", 3, "Catastrophic"),
        ("jsonl/disruptions.jsonl", 2, "Catastrophic"),
        ("parquet/disruptions.parquet", 2, "Catastrophic"),
    ]


def test_jsonl_numbers_and_missing_keys_are_read_as_values(settings, ingest, query):
    lines = [
        {
            "ocg_id": "OCG1",
            "assessed_on": "2025-01-01",
            "threat_score": 7,
            "band": "1A",
            "status": "active",
            "lead_force": "MPS",
            "member_count": 12,
        },
        {
            "ocg_id": "OCG2",
            "assessed_on": "2025-01-01",
            "band": "1A",
            "status": "active",
            "lead_force": "MPS",
        },
    ]
    (settings.landing / "ocg_assessments.jsonl").write_text(
        "\n".join(json.dumps(line) for line in lines) + "\n"
    )
    ingest()
    assert query("SELECT ocg_id, threat_score, member_count FROM raw.ocg_assessments") == [
        ("OCG1", 7, 12)
    ]
    assert query("SELECT line_number, reasons FROM audit.quarantine") == [
        (2, "threat_score: missing required field")
    ]


def test_invalid_json_line_and_broken_parquet_reject_their_files(settings, land, ingest):
    land("disruptions_bad.jsonl", '{"disruption_id": "D1"}\n{"disruption_id": "D2",,}\n{}\n')
    land("disruptions_bad.parquet", b"PAR1 this is not parquet")
    results = {r.source_file: r for r in ingest().batches}
    assert results["disruptions_bad.jsonl"].status == "rejected_file"
    assert results["disruptions_bad.jsonl"].message == (
        "disruptions_bad.jsonl: cannot be read as jsonl: line 2 is not valid JSON"
    )
    assert results["disruptions_bad.parquet"].status == "rejected_file"
    assert results["disruptions_bad.parquet"].message.startswith(
        "disruptions_bad.parquet: cannot be read as parquet: "
    )


def test_same_file_sent_twice_under_another_name_is_a_duplicate(land, ingest, query):
    content = csv_text(DISRUPTION_HEADER, *ROWS)
    land("emsou/disruptions_monday.csv", content)
    land("emsou/disruptions_monday_resent.csv", content)
    summary = ingest()
    assert str(summary).splitlines() == [
        "ingest: 2 new file(s): 1 loaded, 1 duplicate, 0 rejected; 0 skipped; "
        "2 rows loaded, 1 quarantined",
        "  batch 1 loaded         emsou/disruptions_monday.csv: "
        "loaded 2 of 3 records, quarantined 1",
        "  batch 2 duplicate_file emsou/disruptions_monday_resent.csv: "
        "same content as batch 1 (emsou/disruptions_monday.csv); nothing loaded",
    ]
    assert query(
        "SELECT source_file, status, rows_read, message FROM audit.load_batches ORDER BY batch_id"
    ) == [
        ("emsou/disruptions_monday.csv", "loaded", 3, "loaded 2 of 3 records, quarantined 1"),
        (
            "emsou/disruptions_monday_resent.csv",
            "duplicate_file",
            None,
            "same content as batch 1 (emsou/disruptions_monday.csv); nothing loaded",
        ),
    ]
    assert query("SELECT count(*) FROM raw.disruptions") == [(2,)]


def test_second_run_loads_nothing_new_and_records_nothing(land, ingest, query):
    land("disruptions.csv", csv_text(DISRUPTION_HEADER, *ROWS))
    land("ocg_assessments.csv", csv_text(ASSESSMENT_HEADER, "OCG1,2025-01-01,3,1A,active,,MPS"))
    ingest()
    before = query("SELECT count(*) FROM audit.load_batches"), raw_values(query)
    second = ingest()
    assert second.batches == []
    assert sorted(second.skipped) == [
        ("disruptions.csv", "already in the ledger"),
        ("ocg_assessments.csv", "already in the ledger"),
    ]
    assert (query("SELECT count(*) FROM audit.load_batches"), raw_values(query)) == before


def test_sub_folders_per_sending_unit_load_in_path_order(land, ingest, query):
    land("tarian/disruptions_q1.csv", csv_text(DISRUPTION_HEADER, disruption_row("T1")))
    land("emsou/2025/disruptions_q1.csv", csv_text(DISRUPTION_HEADER, disruption_row("E1")))
    land("disruptions_national.csv", csv_text(DISRUPTION_HEADER, disruption_row("N1")))
    ingest()
    assert query(
        "SELECT r.batch_id, r.source_file, r.disruption_id FROM raw.disruptions AS r "
        "ORDER BY r.batch_id"
    ) == [
        (1, "disruptions_national.csv", "N1"),
        (2, "emsou/2025/disruptions_q1.csv", "E1"),
        (3, "tarian/disruptions_q1.csv", "T1"),
    ]


def test_ledger_identity_holds_for_every_loaded_batch(land, ingest, query):
    land("disruptions_a.csv", csv_text(DISRUPTION_HEADER, *ROWS))
    land("disruptions_b.csv", csv_text(DISRUPTION_HEADER))
    land("disruptions_c.csv", csv_text(DISRUPTION_HEADER, disruption_row("X", '"multi\nline"')))
    land(
        "ocg_assessments.csv",
        csv_text(ASSESSMENT_HEADER, "OCG1,2025-01-01,3,1A,active,,MPS", "OCG1,x,3,1A,active,,MPS"),
    )
    land("disruptions_dup.csv", csv_text(DISRUPTION_HEADER, *ROWS))
    ingest()
    batches = query(
        """
        SELECT b.batch_id, b.status, b.rows_read, b.rows_loaded, b.rows_quarantined,
               (SELECT count(*) FROM raw.disruptions r WHERE r.batch_id = b.batch_id)
             + (SELECT count(*) FROM raw.ocg_assessments r WHERE r.batch_id = b.batch_id),
               (SELECT count(*) FROM audit.quarantine q WHERE q.batch_id = b.batch_id)
        FROM audit.load_batches b ORDER BY b.batch_id
        """
    )
    loaded = [b for b in batches if b[1] == "loaded"]
    assert len(loaded) == 4 and any(b[1] == "duplicate_file" for b in batches)
    for _, _, read, rows_loaded, quarantined, raw_count, quarantine_count in loaded:
        assert read == rows_loaded + quarantined
        assert (rows_loaded, quarantined) == (raw_count, quarantine_count)


def test_parquet_whole_floats_count_as_whole_numbers_and_fractions_do_not(settings, ingest, query):
    duckdb.connect().execute(
        f"""
        COPY (SELECT * FROM (VALUES
            ('OCG1', DATE '2025-01-01', 7.0::DOUBLE, '1A', 'active', 'MPS', 3.0::DOUBLE),
            ('OCG2', DATE '2025-01-01', 7.5::DOUBLE, '1A', 'active', 'MPS', NULL::DOUBLE)
        ) AS t(ocg_id, assessed_on, threat_score, band, status, lead_force, member_count))
        TO '{settings.landing / "ocg_assessments.parquet"}'
        """
    )
    ingest()
    assert query("SELECT ocg_id, threat_score, member_count FROM raw.ocg_assessments") == [
        ("OCG1", 7, 3)
    ]
    assert query("SELECT line_number, reasons FROM audit.quarantine") == [
        (2, "threat_score: value '7.5' is not a whole number >= 0")
    ]


def test_missing_landing_folder_is_a_user_error_on_one_line(settings, capsys):
    from disruptions.cli import main

    settings.landing.rmdir()
    assert main(["ingest", "--home", str(settings.home)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"disruptions ingest: error: {settings.landing}: landing folder does not exist "
        "(set DISRUPTIONS_LANDING)"
    )
