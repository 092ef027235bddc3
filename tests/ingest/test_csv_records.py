"""CSV quirks and record-level validation: every bad record is quarantined with every reason."""

from __future__ import annotations

import json

from ingest_helpers import ASSESSMENT_HEADER, DISRUPTION_HEADER, csv_text, disruption_row


def test_bom_before_the_header_is_skipped(land, ingest, query):
    land("disruptions_bom.csv", "\ufeff" + csv_text(DISRUPTION_HEADER, disruption_row()))
    summary = ingest()
    assert [r.status for r in summary.batches] == ["loaded"]
    assert query("SELECT disruption_id, line_number FROM raw.disruptions") == [("D1", 2)]


def test_crlf_line_endings_leave_no_carriage_return_in_values(land, ingest, query):
    rows = [disruption_row("D1"), disruption_row("D2", rationale="")]
    land("disruptions_crlf.csv", csv_text(DISRUPTION_HEADER, *rows, newline="\r\n"))
    ingest()
    assert query(
        "SELECT disruption_id, rationale, line_number FROM raw.disruptions ORDER BY line_number"
    ) == [("D1", "seized goods", 2), ("D2", None, 3)]


def test_quoted_commas_and_newlines_stay_in_the_field_and_lines_count_physically(
    land, ingest, query
):
    rows = [
        disruption_row("D1", rationale='"seized cash, phones\nand a car"'),
        disruption_row("D2", impact="catastrophic", rationale='"two\r\nmore, lines\nhere"'),
        disruption_row("D3", operation='"Op ""Quote"", Two"'),
    ]
    land("disruptions_quoted.csv", csv_text(DISRUPTION_HEADER, *rows))
    ingest()
    assert query(
        "SELECT disruption_id, operation, rationale, line_number FROM raw.disruptions "
        "ORDER BY line_number"
    ) == [
        ("D1", "Op Alpha", "seized cash, phones\nand a car", 2),
        ("D3", 'Op "Quote", Two', "seized goods", 7),
    ]
    assert query("SELECT line_number FROM audit.quarantine") == [(4,)]


def test_blank_lines_are_not_records_and_do_not_shift_line_numbers(land, ingest, query):
    text = csv_text(DISRUPTION_HEADER, disruption_row("D1"), "", disruption_row("D2"))
    land("disruptions_blank.csv", text + "\n")
    summary = ingest()
    assert summary.batches[0].rows_read == 2
    assert query("SELECT disruption_id, line_number FROM raw.disruptions ORDER BY 2") == [
        ("D1", 2),
        ("D2", 4),
    ]


def test_enumerations_and_codes_are_trimmed_and_case_normalised_ids_keep_case(land, ingest, query):
    row = disruption_row(
        disruption_id=" Dx-1a ",
        ocg_id=" ocg-Mixed ",
        impact=" MAJOR ",
        strand="Pursue",
        tactic=" Drugs_Seizure",
        lead_agency=" emsou ",
        force_area="mps ",
        status=" Approved",
    )
    land("disruptions_case.csv", csv_text(DISRUPTION_HEADER, row))
    ingest()
    assert query(
        "SELECT disruption_id, ocg_id, impact, strand, tactic, lead_agency, force_area, status "
        "FROM raw.disruptions"
    ) == [("Dx-1a", "ocg-Mixed", "major", "pursue", "drugs_seizure", "EMSOU", "MPS", "approved")]


def test_unknown_codes_are_quarantined_naming_every_column_and_value(land, ingest, query):
    row = disruption_row(
        impact="catastrophic", tactic="kidnap", lead_agency="FBI", force_area="NYPD", status="ok"
    )
    land("disruptions_codes.csv", csv_text(DISRUPTION_HEADER, row))
    summary = ingest()
    assert (summary.batches[0].rows_loaded, summary.batches[0].rows_quarantined) == (0, 1)
    [(line, record, reasons)] = query("SELECT line_number, record, reasons FROM audit.quarantine")
    assert line == 2
    assert json.loads(record)["impact"] == "catastrophic"
    assert reasons.split("; ") == [
        "impact: value 'catastrophic' not allowed "
        "(expected major, moderate, minor, none, negative)",
        "tactic: value 'kidnap' not allowed (expected arrest, charge, conviction, imprisonment, "
        "drugs_seizure, firearms_seizure, cash_seizure, asset_restraint, confiscation_order, "
        "ancillary_order, safeguarding, deterrence, partner_enforcement, source_compromise, "
        "other)",
        "lead_agency: value 'FBI' not allowed (expected a force, ROCU or partner agency code "
        "from seeds/)",
        "force_area: value 'NYPD' not allowed (expected a force code from seeds/forces.csv)",
        "status: value 'ok' not allowed (expected claimed, approved, rejected, withdrawn)",
    ]


def test_missing_required_values_are_each_named(land, ingest, query):
    row = disruption_row(disruption_id="", disruption_date="  ", impact="", operation="")
    land("disruptions_missing.csv", csv_text(DISRUPTION_HEADER, row))
    ingest()
    [(reasons,)] = query("SELECT reasons FROM audit.quarantine")
    assert reasons.split("; ") == [
        "disruption_id: missing required field",
        "disruption_date: missing required field",
        "impact: missing required field",
    ]


def test_unparseable_dates_and_timestamps_are_quarantined(land, ingest, query):
    rows = [
        disruption_row("D1", disruption_date="01/03/2025"),
        disruption_row("D2", disruption_date="2025-02-30"),
        disruption_row("D3", recorded_at="yesterday"),
        disruption_row("D4", recorded_at="2025-03-01T09:00:00+01:00"),
    ]
    land("disruptions_dates.csv", csv_text(DISRUPTION_HEADER, *rows))
    ingest()
    assert query("SELECT line_number, reasons FROM audit.quarantine ORDER BY 1") == [
        (2, "disruption_date: unparseable date '01/03/2025'"),
        (3, "disruption_date: unparseable date '2025-02-30'"),
        (4, "recorded_at: unparseable timestamp 'yesterday'"),
    ]
    # An offset is converted: 09:00+01:00 is stored as 08:00 UTC.
    assert query("SELECT CAST(recorded_at AS VARCHAR) FROM raw.disruptions") == [
        ("2025-03-01 08:00:00",)
    ]


def test_disruption_date_after_recorded_at_is_quarantined(land, ingest, query):
    rows = [
        disruption_row("D1", disruption_date="2025-03-02", recorded_at="2025-03-01T23:59:59"),
        disruption_row("D2", disruption_date="2025-03-01", recorded_at="2025-03-01T00:00:00"),
    ]
    land("disruptions_after.csv", csv_text(DISRUPTION_HEADER, *rows))
    ingest()
    assert query("SELECT reasons FROM audit.quarantine") == [
        ("disruption_date 2025-03-02 is after recorded_at 2025-03-01",)
    ]
    assert query("SELECT disruption_id FROM raw.disruptions") == [("D2",)]


def test_disruption_date_before_2000_is_quarantined(land, ingest, query):
    rows = [
        disruption_row("D1", disruption_date="1999-12-31"),
        disruption_row("D2", disruption_date="2000-01-01"),
    ]
    land("disruptions_old.csv", csv_text(DISRUPTION_HEADER, *rows))
    ingest()
    assert query("SELECT reasons FROM audit.quarantine") == [
        ("disruption_date 1999-12-31 is before 2000-01-01",)
    ]
    assert query("SELECT disruption_id FROM raw.disruptions") == [("D2",)]


def test_assessment_rules_whole_scores_bands_and_archive_reason(land, ingest, query):
    rows = [
        "OCG1,2025-01-01,10,1a,Active,,mps",
        "OCG2,2025-01-01,12.5,1A,active,,MPS",
        "OCG3,2025-01-01,-3,9Z,active,,MPS",
        "OCG4,2025-01-01,5,2B,archived,,MPS",
        "OCG5,2025-01-01,5,2B,archived,Dismantled,MPS",
        "OCG6,2025-01-01,5,2B,active,merged,MPS",
    ]
    land("ocg_assessments_q1.csv", csv_text(ASSESSMENT_HEADER, *rows))
    ingest()
    assert query(
        "SELECT ocg_id, threat_score, band, status, archive_reason, lead_force "
        "FROM raw.ocg_assessments ORDER BY ocg_id"
    ) == [
        ("OCG1", 10, "1A", "active", None, "MPS"),
        ("OCG5", 5, "2B", "archived", "dismantled", "MPS"),
    ]
    assert query("SELECT line_number, reasons FROM audit.quarantine ORDER BY 1") == [
        (3, "threat_score: value '12.5' is not a whole number >= 0"),
        (
            4,
            "threat_score: value '-3' is not a whole number >= 0; band: value '9Z' not allowed "
            "(expected 1A, 1B, 1C, 2A, 2B, 2C, 3A, 3B, 3C)",
        ),
        (5, "archive_reason: missing required field (required when status is archived)"),
        (7, "archive_reason: value 'merged' given but status is active"),
    ]


def test_amendments_and_repeated_assessments_are_simply_more_raw_rows(land, ingest, query):
    land("disruptions_v1.csv", csv_text(DISRUPTION_HEADER, disruption_row("D1", status="claimed")))
    land(
        "disruptions_v2.csv",
        csv_text(DISRUPTION_HEADER, disruption_row("D1", recorded_at="2025-03-05T10:00:00")),
    )
    land("ocg_assessments_a.csv", csv_text(ASSESSMENT_HEADER, "OCG1,2025-01-01,10,1A,active,,MPS"))
    land("ocg_assessments_b.csv", csv_text(ASSESSMENT_HEADER, "OCG1,2025-01-01,12,1A,active,,MPS"))
    ingest()
    assert query("SELECT status FROM raw.disruptions ORDER BY batch_id, line_number") == [
        ("claimed",),
        ("approved",),
    ]
    assert query("SELECT threat_score FROM raw.ocg_assessments ORDER BY batch_id") == [(10,), (12,)]


def test_line_numbers_hold_in_a_file_read_in_many_parallel_chunks(land, ingest, query):
    """Records are numbered by their position in the insert (see
    FileLoader._insert_in_file_order), not by a window: this file is large enough for
    DuckDB to read it in many chunks on several threads, and it has bad records (whose
    placeholder rows must leave no gap), a record spanning lines and a blank line."""
    rows, expected_lines, bad_lines = [], {}, []
    line = 1  # the header
    for number in range(300_000):
        line += 1
        if number in (5, 150_000, 299_999):
            rows.append(disruption_row(f"D{number}", impact="catastrophic"))
            bad_lines.append(line)
        elif number == 200_000:
            rows.append(disruption_row(f"D{number}", rationale='"over\ntwo lines"'))
            expected_lines[f"D{number}"] = line
            line += 1
        elif number == 250_000:
            rows.append("")  # a blank line: not a record
            rows.append(disruption_row(f"D{number}"))
            line += 1
            expected_lines[f"D{number}"] = line
        else:
            rows.append(disruption_row(f"D{number}", rationale=f"note {number}"))
            expected_lines[f"D{number}"] = line
    land("disruptions_large.csv", csv_text(DISRUPTION_HEADER, *rows))
    [batch] = ingest().batches
    assert (batch.rows_read, batch.rows_loaded, batch.rows_quarantined) == (300_000, 299_997, 3)
    loaded = dict(query("SELECT disruption_id, line_number FROM raw.disruptions"))
    assert loaded == expected_lines
    assert [line for (line,) in query("SELECT line_number FROM audit.quarantine ORDER BY 1")] == (
        bad_lines
    )
    # The rationale of each row is the one written on its line: values did not shift.
    assert query(
        "SELECT count(*) FROM raw.disruptions WHERE rationale <> "
        "'note ' || substr(disruption_id, 2) AND disruption_id NOT IN ('D200000', 'D250000')"
    ) == [(0,)]
