"""Hand-made raw rows for the dbt tests, and the answers worked out by hand from them.

Two points in time: AS_OF_1 = 2025-06-30 and AS_OF_2 = 2026-03-31.

OCG A (lead GMP): baseline 2025-01-10 with score 50 (assessed 2024-12-01); re-assessed
2025-04-01 (sent twice: 45, then 44 loaded later) and 2025-09-01 (30).
OCG B (lead MPS): baseline 2025-02-01 with score 80, dismantled 2025-05-01 (89 days).
OCG C (lead KENT): baseline 2025-02-10, first assessed 2025-03-01: no baseline score.
OCG E (lead WMIDS): assessed only. OCG F: only a rejected claim. OCG G: no assessment,
disruption recorded after AS_OF_1.
"""

from __future__ import annotations

from datetime import date

import duckdb

AS_OF_1 = date(2025, 6, 30)
AS_OF_2 = date(2026, 3, 31)

# disruption_id, ocg_id, disruption_date, recorded_at, impact, strand, tactic,
# lead_agency, force_area, status
D = tuple[str, str, str, str, str, str, str, str, str, str]

DISRUPTIONS_BATCH_1: list[D] = [
    (
        "D1",
        "A",
        "2025-01-10",
        "2025-01-11 10:00",
        "major",
        "pursue",
        "arrest",
        "GMP",
        "GMP",
        "approved",
    ),
    (
        "D2",
        "A",
        "2025-02-15",
        "2025-02-16 10:00",
        "minor",
        "prevent",
        "drugs_seizure",
        "NCA",
        "GMP",
        "approved",
    ),
    (
        "D3",
        "A",
        "2025-03-01",
        "2025-03-02 10:00",
        "none",
        "pursue",
        "arrest",
        "GMP",
        "GMP",
        "approved",
    ),
    (
        "D4",
        "B",
        "2025-02-01",
        "2025-02-02 10:00",
        "moderate",
        "pursue",
        "cash_seizure",
        "LDNROCU",
        "MPS",
        "approved",
    ),
    (
        "D5",
        "B",
        "2025-03-01",
        "2025-03-02 10:00",
        "negative",
        "protect",
        "source_compromise",
        "MPS",
        "MPS",
        "claimed",
    ),
    (
        "D6",
        "C",
        "2025-02-10",
        "2025-02-11 10:00",
        "minor",
        "pursue",
        "arrest",
        "KENT",
        "KENT",
        "approved",
    ),
    (
        "D7",
        "C",
        "2025-06-01",
        "2025-06-02 10:00",
        "major",
        "pursue",
        "imprisonment",
        "KENT",
        "KENT",
        "approved",
    ),
    (
        "D8",
        "F",
        "2025-04-01",
        "2025-04-02 10:00",
        "minor",
        "prepare",
        "other",
        "HMRC",
        "ESSEX",
        "rejected",
    ),
    (
        "D9",
        "G",
        "2025-06-20",
        "2025-07-05 10:00",
        "major",
        "pursue",
        "arrest",
        "GMP",
        "GMP",
        "approved",
    ),
]
# Held: a withdrawal of D1 and a new major against A. Must not count.
DISRUPTIONS_BATCH_3_HELD: list[D] = [
    (
        "D1",
        "A",
        "2025-01-10",
        "2025-04-01 10:00",
        "major",
        "pursue",
        "arrest",
        "GMP",
        "GMP",
        "withdrawn",
    ),
    (
        "D10",
        "A",
        "2025-04-01",
        "2025-04-02 10:00",
        "major",
        "pursue",
        "arrest",
        "GMP",
        "GMP",
        "approved",
    ),
]
# Held then discarded. Must never count.
DISRUPTIONS_BATCH_4_DISCARDED: list[D] = [
    (
        "D11",
        "B",
        "2025-04-01",
        "2025-04-02 10:00",
        "major",
        "pursue",
        "arrest",
        "MPS",
        "MPS",
        "approved",
    ),
]
# Held at the first builds, discarded before the incremental one: an amendment of D5 that
# never counts, whose rows must go from held_batch to discarded_batch.
DISRUPTIONS_BATCH_10_HELD_THEN_DISCARDED: list[D] = [
    (
        "D5",
        "B",
        "2025-03-01",
        "2025-03-20 10:00",
        "major",
        "protect",
        "source_compromise",
        "MPS",
        "MPS",
        "approved",
    ),
]
# Amendments: D2 minor -> moderate; D7 withdrawn; D4 moderate -> major, recorded after AS_OF_1.
DISRUPTIONS_BATCH_5: list[D] = [
    (
        "D2",
        "A",
        "2025-02-15",
        "2025-05-01 10:00",
        "moderate",
        "prevent",
        "drugs_seizure",
        "NCA",
        "GMP",
        "approved",
    ),
    (
        "D7",
        "C",
        "2025-06-01",
        "2025-06-10 10:00",
        "major",
        "pursue",
        "imprisonment",
        "KENT",
        "KENT",
        "withdrawn",
    ),
    (
        "D4",
        "B",
        "2025-02-01",
        "2025-07-02 10:00",
        "major",
        "pursue",
        "cash_seizure",
        "LDNROCU",
        "MPS",
        "approved",
    ),
]

# ocg_id, assessed_on, threat_score, band, status, archive_reason, lead_force
ASSESSMENTS_BATCH_2 = [
    ("A", "2024-12-01", 50, "2A", "active", None, "GMP"),
    ("A", "2025-04-01", 45, "2A", "active", None, "GMP"),
    ("A", "2025-09-01", 30, "2B", "active", None, "GMP"),
    ("B", "2025-01-01", 80, "1A", "active", None, "MPS"),
    ("B", "2025-05-01", 0, "3C", "archived", "dismantled", "MPS"),
    ("C", "2025-03-01", 20, "1B", "active", None, "KENT"),
    ("E", "2025-01-15", 10, "3A", "active", None, "WMIDS"),
]
# Sent again later: replaces A's 2025-04-01 assessment.
ASSESSMENTS_BATCH_6 = [("A", "2025-04-01", 44, "2A", "active", None, "GMP")]
# Held until the incremental stage, then released: a new assessment of C.
ASSESSMENTS_BATCH_8_HELD = [("C", "2025-06-01", 25, "1B", "active", None, "KENT")]
# Arrives in the incremental stage: B's 2025-01-01 assessment sent again (80 -> 70), which
# changes B's baseline score. E gains nothing, so its rows must survive untouched.
ASSESSMENTS_BATCH_9 = [("B", "2025-01-01", 70, "1A", "active", None, "MPS")]

# Arrives after the first builds: a released held batch (3) and a new batch (7) with an
# amendment of D6 (minor -> major) and a new disruption against E.
DISRUPTIONS_BATCH_7: list[D] = [
    (
        "D6",
        "C",
        "2025-02-10",
        "2025-08-01 10:00",
        "major",
        "pursue",
        "arrest",
        "KENT",
        "KENT",
        "approved",
    ),
    (
        "D12",
        "E",
        "2025-10-01",
        "2025-10-02 10:00",
        "minor",
        "prevent",
        "safeguarding",
        "WMIDS",
        "WMIDS",
        "approved",
    ),
]


def insert_batch(con, batch_id: int, feed: str, status: str, rows: list) -> None:
    con.execute(
        "INSERT INTO audit.load_batches (batch_id, feed, source_file, sha256, rows_read, "
        "rows_loaded, rows_quarantined, status, started_at, finished_at, run_id) "
        "VALUES (?, ?, ?, ?, ?, ?, 0, ?, now()::TIMESTAMP, now()::TIMESTAMP, 'test')",
        [batch_id, feed, f"{feed}_{batch_id}.csv", f"sha{batch_id}", len(rows), len(rows), status],
    )
    for line, row in enumerate(rows, start=2):
        if feed == "disruptions":
            con.execute(
                "INSERT INTO raw.disruptions VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'Op Test', 'secret reasoning', ?, ?, ?, "
                "now()::TIMESTAMP)",
                [*row, batch_id, f"{feed}_{batch_id}.csv", line],
            )
        else:
            con.execute(
                "INSERT INTO raw.ocg_assessments VALUES "
                "(?, ?, ?, ?, ?, ?, ?, 'drugs supply', 5, ?, ?, ?, now()::TIMESTAMP)",
                [*row, batch_id, f"{feed}_{batch_id}.csv", line],
            )


def load_initial_batches(con: duckdb.DuckDBPyConnection) -> None:
    insert_batch(con, 1, "disruptions", "loaded", DISRUPTIONS_BATCH_1)
    insert_batch(con, 2, "ocg_assessments", "loaded", ASSESSMENTS_BATCH_2)
    insert_batch(con, 3, "disruptions", "held", DISRUPTIONS_BATCH_3_HELD)
    insert_batch(con, 4, "disruptions", "held", DISRUPTIONS_BATCH_4_DISCARDED)
    con.execute(
        "INSERT INTO audit.batch_decisions VALUES (4, 'discarded', now()::TIMESTAMP, 'steward')"
    )
    insert_batch(con, 5, "disruptions", "loaded", DISRUPTIONS_BATCH_5)
    insert_batch(con, 6, "ocg_assessments", "loaded", ASSESSMENTS_BATCH_6)
    insert_batch(con, 8, "ocg_assessments", "held", ASSESSMENTS_BATCH_8_HELD)
    insert_batch(con, 10, "disruptions", "held", DISRUPTIONS_BATCH_10_HELD_THEN_DISCARDED)


def release_held_batches_and_load_new_ones(con: duckdb.DuckDBPyConnection) -> None:
    """Release held batches 3 (disruptions) and 8 (assessments); load batches 7 and 9;
    discard held batch 10."""
    for batch_id in (3, 8):
        con.execute(
            "UPDATE audit.load_batches SET status = 'loaded' WHERE batch_id = ?", [batch_id]
        )
        con.execute(
            "INSERT INTO audit.batch_decisions VALUES (?, 'released', now()::TIMESTAMP, 'steward')",
            [batch_id],
        )
    insert_batch(con, 7, "disruptions", "loaded", DISRUPTIONS_BATCH_7)
    insert_batch(con, 9, "ocg_assessments", "loaded", ASSESSMENTS_BATCH_9)
    con.execute(
        "INSERT INTO audit.batch_decisions VALUES (10, 'discarded', now()::TIMESTAMP, 'steward')"
    )


# ---- answers, worked out by hand ------------------------------------------------------
# ocg_disruption_summary: ocg_id -> (lead_force, rocu, current_status, current_threat_score,
# current_band, major, moderate, minor, none, negative, total, pending, net, first, last)
SUMMARY_AS_OF_1 = {
    "A": ("GMP", "NWROCU", "active", 44, "2A", 1, 1, 0, 1, 0, 2, 0, 5, "2025-01-10", "2025-02-15"),
    "B": (
        "MPS",
        "LDNROCU",
        "archived",
        0,
        "3C",
        0,
        1,
        0,
        0,
        0,
        1,
        1,
        2,
        "2025-02-01",
        "2025-02-01",
    ),
    "C": ("KENT", "ERSOU", "active", 20, "1B", 0, 0, 1, 0, 0, 1, 0, 1, "2025-02-10", "2025-02-10"),
    "E": ("WMIDS", "WMROCU", "active", 10, "3A", 0, 0, 0, 0, 0, 0, 0, 0, None, None),
}
SUMMARY_AS_OF_2 = {
    "A": ("GMP", "NWROCU", "active", 30, "2B", 1, 1, 0, 1, 0, 2, 0, 5, "2025-01-10", "2025-02-15"),
    "B": (
        "MPS",
        "LDNROCU",
        "archived",
        0,
        "3C",
        1,
        0,
        0,
        0,
        0,
        1,
        1,
        3,
        "2025-02-01",
        "2025-02-01",
    ),
    "C": ("KENT", "ERSOU", "active", 20, "1B", 0, 0, 1, 0, 0, 1, 0, 1, "2025-02-10", "2025-02-10"),
    "E": ("WMIDS", "WMROCU", "active", 10, "3A", 0, 0, 0, 0, 0, 0, 0, 0, None, None),
    "G": (None, None, None, None, None, 1, 0, 0, 0, 0, 1, 0, 3, "2025-06-20", "2025-06-20"),
}

# ocg_long_term_effect: ocg_id -> (baseline_date, baseline_score, baseline_band,
# score_6m, score_change_6m, pct_change_6m, effect_6m,
# score_12m, score_change_12m, pct_change_12m, effect_12m,
# dismantled_within_12m, days_to_dismantle, disruptions_after_baseline_12m)
EFFECT_AS_OF_1 = {
    "A": (
        "2025-01-10",
        50,
        "2A",
        None,
        None,
        None,
        "too_early",
        None,
        None,
        None,
        "too_early",
        False,
        None,
        1,
    ),
    "B": (
        "2025-02-01",
        80,
        "1A",
        None,
        None,
        None,
        "dismantled",
        None,
        None,
        None,
        "dismantled",
        True,
        89,
        0,
    ),
    "C": (
        "2025-02-10",
        None,
        None,
        None,
        None,
        None,
        "too_early",
        None,
        None,
        None,
        "too_early",
        False,
        None,
        0,
    ),
}
EFFECT_AS_OF_2 = {
    "A": (
        "2025-01-10",
        50,
        "2A",
        44,
        -6,
        -0.12,
        "reduced",
        30,
        -20,
        -0.4,
        "reduced",
        False,
        None,
        1,
    ),
    "B": (
        "2025-02-01",
        80,
        "1A",
        0,
        -80,
        -1.0,
        "dismantled",
        0,
        -80,
        -1.0,
        "dismantled",
        True,
        89,
        0,
    ),
    "C": (
        "2025-02-10",
        None,
        None,
        20,
        None,
        None,
        "insufficient_baseline",
        20,
        None,
        None,
        "insufficient_baseline",
        False,
        None,
        0,
    ),
    "G": (
        "2025-06-20",
        None,
        None,
        None,
        None,
        None,
        "insufficient_baseline",
        None,
        None,
        None,
        "too_early",
        False,
        None,
        0,
    ),
}
