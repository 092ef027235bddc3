"""Feed suites on new batches: a critical failure holds the batch with one alert per
channel; warnings alert only; a validated or released batch is never validated again."""

from __future__ import annotations

import json

import pytest
from alert_loopback import SmtpServer, WebhookServer, configure_channels
from validation_builders import (
    add_batch,
    assessment_rows,
    batch_status,
    disruption_rows,
)

from disruptions.config import load_settings
from disruptions.quality.batches import sender_of, validate_new_batches, volume_bounds
from disruptions.quality.decisions import release_batch
from disruptions.quality.load_docs import build_load_docs
from disruptions.quality.suites import FEED_SUITES, SuiteRunner, load_suite_definition
from disruptions.warehouse import open_warehouse


def alerts(settings):
    with open_warehouse(settings) as con:
        return con.execute(
            "SELECT severity, source, subject, message, details FROM audit.dq_alerts "
            "ORDER BY alert_id"
        ).fetchall()


def validations(settings):
    with open_warehouse(settings) as con:
        return con.execute(
            "SELECT batch_id, suite_name, success, critical_failures, warning_failures, summary "
            "FROM audit.batch_validations ORDER BY batch_id"
        ).fetchall()


def test_every_suite_is_valid_gx_json_with_a_severity_and_a_reason_on_each_expectation(
    settings,
):
    runner = SuiteRunner(settings)
    for name in FEED_SUITES.values():
        runner.definition(name)  # GX parses every expectation, or this raises
        suite = load_suite_definition(name)
        assert suite["name"] == name
        assert suite["expectations"]
        for expectation in suite["expectations"]:
            assert expectation["meta"]["severity"] in ("critical", "warning")
            assert expectation["meta"]["why"].strip()


@pytest.mark.parametrize(
    ("source_file", "sender"),
    [
        ("emsou/disruptions_2026-10-30.csv", "emsou"),
        ("titan/2026/disruptions.parquet", "titan"),
        ("disruptions_2026-10-30.csv", "disruptions"),
        ("ocg_assessments-20261030T0200.jsonl", "ocg_assessments"),
        ("disruptions_nca_2026_10_30.csv", "disruptions_nca"),
    ],
)
def test_sender_is_the_first_folder_or_the_dateless_file_name(source_file, sender):
    assert sender_of(source_file) == sender


def test_volume_band_needs_history_and_centres_on_the_median():
    assert volume_bounds([100, 100]) == {
        "volume_min": 0,
        "volume_max": None,
        "volume_extreme_max": None,
    }
    assert volume_bounds([90, 100, 110, 5000]) == {
        "volume_min": 21,
        "volume_max": 535,
        "volume_extreme_max": 6250,
    }


def test_a_clean_batch_is_validated_once_and_stays_loaded_without_alerts(settings):
    add_batch(
        settings, "ocg_assessments", "emsou/ocg_assessments_2026-10-01.csv", assessment_rows()
    )
    batch = add_batch(
        settings, "disruptions", "emsou/disruptions_2026-10-01.csv", disruption_rows(200)
    )

    summary = validate_new_batches(settings, "run-1")
    assert [b.batch_id for b in summary.batches] == [1, batch]
    assert not summary.held and "0 held" in str(summary)
    assert batch_status(settings, batch) == "loaded"
    assert [(v[0], v[1], v[2]) for v in validations(settings)] == [
        (1, "ocg_assessments_batch", True),
        (batch, "disruptions_batch", True),
    ]
    assert alerts(settings) == []

    assert validate_new_batches(settings, "run-2").batches == []
    assert len(validations(settings)) == 2


def test_duplicate_versions_in_a_batch_hold_it_with_one_alert_per_channel(settings, monkeypatch):
    add_batch(
        settings, "ocg_assessments", "emsou/ocg_assessments_2026-10-01.csv", assessment_rows()
    )
    rows = disruption_rows(30)
    rows[7].update({k: rows[3][k] for k in ("disruption_id", "recorded_at", "disruption_date")})
    batch = add_batch(settings, "disruptions", "emsou/disruptions_2026-10-02.csv", rows)

    with SmtpServer() as smtp, WebhookServer() as hook:
        configure_channels(monkeypatch, smtp_port=smtp.port, webhook_url=hook.url)
        summary = validate_new_batches(load_settings(), "run-1")

    assert [b.batch_id for b in summary.held] == [batch]
    assert batch_status(settings, batch) == "held"
    [(severity, source, subject, message, details)] = alerts(settings)
    assert (severity, source) == ("critical", "batch_validation")
    details = json.loads(details)
    assert details["batch_id"] == batch and details["feed"] == "disruptions"
    assert details["source_file"] == "emsou/disruptions_2026-10-02.csv"
    [failure] = [f for f in details["failures"] if f["severity"] == "critical"]
    assert failure["expectation"] == "expect_column_values_to_be_null"
    assert failure["column"] == "repeated_version"
    assert failure["failing_rows"] == 2
    assert failure["samples"][0] == f"{rows[3]['disruption_id']} recorded 2024-01-06T09:00:00"
    assert "disruptions release" in message

    assert len(smtp.messages) == 1 and len(hook.requests) == 1
    email = smtp.messages[0]["message"]
    body = email.get_content()
    assert f"Batch {batch} held" in email["Subject"]
    for needle in ("emsou/disruptions_2026-10-02.csv", "repeated_version"):
        assert needle in body and needle in hook.requests[0]["json"]["text"]
    assert "2 failing rows" in body
    assert rows[3]["disruption_id"] in body
    assert "SECRET-RATIONALE" not in body + json.dumps(hook.requests[0]["json"])

    [validation] = [v for v in validations(settings) if v[0] == batch]
    assert validation[2:5] == (False, 1, 0)


def test_values_inserted_behind_ingest_hold_the_batch_and_rationale_is_never_read(settings):
    add_batch(settings, "ocg_assessments", "ocg_assessments_2026-10-01.csv", assessment_rows())
    rows = disruption_rows(20)
    for row in rows[:4]:
        row["impact"] = "catastrophic"
    batch = add_batch(settings, "disruptions", "disruptions_2026-10-03.csv", rows)

    validate_new_batches(settings, "run-1")

    assert batch_status(settings, batch) == "held"
    [(_, _, _, message, details)] = alerts(settings)
    assert "expect_column_values_to_be_in_set on impact: 4 failing rows" in message
    assert "catastrophic" in message
    # The rationale column is never selected: it is in no alert, no validation row and
    # no load-validation page; and GX keeps no files of its own.
    build_load_docs(settings)
    stored = details + json.dumps(validations(settings), default=str)
    stored += "".join(p.read_text() for p in settings.data_docs_dir.rglob("*.html"))
    assert "catastrophic" in stored
    assert "SECRET-RATIONALE" not in stored
    assert not (settings.home / "gx").exists()
    assert "rationale" not in details.lower()


def test_unknown_ocgs_and_a_volume_jump_are_warnings_and_the_batch_still_counts(settings):
    add_batch(
        settings, "ocg_assessments", "emsou/ocg_assessments_2026-10-01.csv", assessment_rows()
    )
    for day in range(1, 5):
        add_batch(
            settings,
            "disruptions",
            f"emsou/disruptions_2026-10-0{day}.csv",
            disruption_rows(20, prefix=f"E{day}-"),
        )
    validate_new_batches(settings, "run-1")
    assert alerts(settings) == []

    jump = add_batch(
        settings,
        "disruptions",
        "emsou/disruptions_2026-10-05.csv",
        disruption_rows(150, prefix="J", ocgs=("OCG-404", "OCG-405")),
    )
    summary = validate_new_batches(settings, "run-2")

    assert not summary.held and batch_status(settings, jump) == "loaded"
    [(severity, _, subject, message, details)] = alerts(settings)
    assert severity == "warning" and f"Batch {jump}" in subject
    failing = {f["expectation"]: f for f in json.loads(details)["failures"]}
    assert failing["expect_table_row_count_to_be_between"]["observed_value"] == 150
    assert failing["expect_column_values_to_be_null"]["column"] == "unknown_ocg_id"
    assert failing["expect_column_values_to_be_null"]["failing_rows"] == 150
    assert set(failing["expect_column_values_to_be_null"]["samples"]) == {"OCG-404", "OCG-405"}


def test_an_extreme_volume_spike_against_the_senders_history_is_held(settings):
    add_batch(settings, "ocg_assessments", "ocg_assessments_2026-10-01.csv", assessment_rows())
    for day in range(1, 4):
        add_batch(
            settings,
            "disruptions",
            f"nca/disruptions_2026-10-0{day}.csv",
            disruption_rows(2, prefix=f"N{day}-"),
        )
    # Another sender's history does not count towards this one's band.
    add_batch(settings, "disruptions", "titan/disruptions_2026-10-01.csv", disruption_rows(1200))
    spike = add_batch(
        settings, "disruptions", "nca/disruptions_2026-10-04.csv", disruption_rows(1200, prefix="S")
    )
    summary = validate_new_batches(settings, "run-1")
    assert [b.batch_id for b in summary.held] == [spike]
    [(_, _, subject, message, _)] = [a for a in alerts(settings) if a[0] == "critical"]
    assert "expect_table_row_count_to_be_between: observed 1200" in message


def test_a_released_batch_is_not_validated_or_held_again(settings):
    add_batch(settings, "ocg_assessments", "ocg_assessments_2026-10-01.csv", assessment_rows())
    rows = disruption_rows(10)
    rows[1].update({k: rows[0][k] for k in ("disruption_id", "recorded_at", "disruption_date")})
    batch = add_batch(settings, "disruptions", "disruptions_2026-10-03.csv", rows)
    validate_new_batches(settings, "run-1")
    assert batch_status(settings, batch) == "held"

    release_batch(settings, batch)
    with open_warehouse(settings) as con:  # even if its validation row were lost
        con.execute("DELETE FROM audit.batch_validations WHERE batch_id = ?", [batch])
    summary = validate_new_batches(settings, "run-2")

    assert summary.batches == []
    assert batch_status(settings, batch) == "loaded"
    assert len(alerts(settings)) == 1


def test_small_batches_are_validated_together_and_only_the_bad_one_is_held(settings):
    add_batch(settings, "ocg_assessments", "ocg_assessments_2026-10-01.csv", assessment_rows())
    clean = [
        add_batch(
            settings, "disruptions", f"r{n}/disruptions.csv", disruption_rows(40, prefix=f"C{n}-")
        )
        for n in range(4)
    ]
    rows = disruption_rows(40, prefix="X-")
    rows[5].update({k: rows[4][k] for k in ("disruption_id", "recorded_at", "disruption_date")})
    bad = add_batch(settings, "disruptions", "r9/disruptions.csv", rows)
    # The same id and instant in two different batches is not a repeat within a batch.
    again = add_batch(
        settings, "disruptions", "r8/disruptions.csv", disruption_rows(40, prefix="C0-")
    )

    summary = validate_new_batches(settings, "run-1")

    assert [b.batch_id for b in summary.held] == [bad]
    assert {b.batch_id for b in summary.batches} == {1, *clean, bad, again}
    assert [batch_status(settings, b) for b in (*clean, again)] == ["loaded"] * 5
    assert len(alerts(settings)) == 1


def test_one_bad_batch_among_many_is_found_by_halving_the_group(settings):
    add_batch(settings, "ocg_assessments", "ocg_assessments_2026-10-01.csv", assessment_rows())
    batches = [
        add_batch(
            settings, "disruptions", f"r{n}/disruptions.csv", disruption_rows(20, prefix=f"C{n}-")
        )
        for n in range(16)
    ]
    with open_warehouse(settings) as con:  # one bad code, put straight into raw
        con.execute(
            "UPDATE raw.disruptions SET strand = 'pursuit' WHERE batch_id = ? AND line_number = 5",
            [batches[11]],
        )

    summary = validate_new_batches(settings, "run-1")

    assert [b.batch_id for b in summary.held] == [batches[11]]
    judged_alone = [
        v[0] for v in validations(settings) if "validated_with_batches" not in json.loads(v[5])
    ]
    # 16 -> 8 -> 4 -> 2, then those two one by one (and the assessments file, alone)
    assert sorted(judged_alone) == [1, batches[10], batches[11]]
    assert "strand: 1 failing rows" in alerts(settings)[0][3]


def test_a_batch_that_fails_only_its_own_mostly_check_is_judged_alone(settings):
    add_batch(settings, "ocg_assessments", "ocg_assessments_2026-10-01.csv", assessment_rows())
    clean = [
        add_batch(
            settings, "disruptions", f"r{n}/disruptions.csv", disruption_rows(200, prefix=f"C{n}-")
        )
        for n in range(5)
    ]
    # 10 rows of unknown OCGs: 1% of the group (passes together), 100% of its batch.
    stranger = add_batch(
        settings, "disruptions", "r7/disruptions.csv", disruption_rows(10, ocgs=("OCG-404",))
    )

    summary = validate_new_batches(settings, "run-1")

    assert not summary.held
    [warned] = summary.with_warnings
    assert warned.batch_id == stranger
    [(severity, _, subject, _, _)] = alerts(settings)
    assert severity == "warning" and f"Batch {stranger}" in subject
    together = {v[0]: json.loads(v[5]).get("validated_with_batches") for v in validations(settings)}
    assert together[clean[0]] == [*clean, stranger]
    assert together[stranger] is None  # it got a validation of its own


def test_a_repeated_assessment_key_in_one_file_warns_but_still_counts(settings):
    # SPEC: a row loaded later replaces an earlier one with the same (ocg_id, assessed_on),
    # so a correction inside the same file is legal; the steward is told, the batch counts.
    rows = assessment_rows()
    corrected = dict(rows[0], threat_score=rows[0]["threat_score"] + 5)
    batch = add_batch(
        settings, "ocg_assessments", "emsou/ocg_assessments_2026-10-01.csv", [*rows, corrected]
    )

    summary = validate_new_batches(settings, "run-1")

    assert not summary.held and batch_status(settings, batch) == "loaded"
    [(severity, _, subject, _, details)] = alerts(settings)
    assert severity == "warning" and f"Batch {batch}" in subject
    failing = {f.get("column") for f in json.loads(details)["failures"]}
    assert "repeated_assessment" in failing


def test_no_validated_frame_outlives_the_step(settings):
    """GX's project manager keeps the context, and so its engine's batch cache, alive for
    the whole process; the embedded Airflow run executes every task in one process, so a
    cached frame (1 GB at 10M rows) would add to every later step's memory."""
    import gc

    import pandas as pd

    add_batch(
        settings, "ocg_assessments", "emsou/ocg_assessments_2026-10-01.csv", assessment_rows()
    )
    add_batch(settings, "disruptions", "emsou/disruptions_2026-10-01.csv", disruption_rows(200))
    summary = validate_new_batches(settings, "run-1")
    assert len(summary.batches) == 2
    gc.collect()
    frames = [o for o in gc.get_objects() if isinstance(o, pd.DataFrame) and "batch_id" in o]
    assert frames == []
