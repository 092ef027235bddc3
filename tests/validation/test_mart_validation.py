"""Mart suites after the build: a consistent set of marts passes; a corrupted mart fails
the step with PipelineError(alert_raised=True) and a critical alert."""

from __future__ import annotations

import json
from datetime import date

import pytest
from validation_builders import add_batch, assessment_rows, build_marts, disruption_rows

from disruptions.errors import PipelineError
from disruptions.validate import validate_marts, validate_new_batches
from disruptions.warehouse import open_warehouse

AS_OF = date(2024, 12, 31)


@pytest.fixture
def built(settings):
    add_batch(settings, "ocg_assessments", "ocg_assessments_2023-06-01.csv", assessment_rows())
    rows = disruption_rows(120)
    for index, row in enumerate(rows):
        row["status"] = ["approved", "approved", "claimed", "withdrawn"][index % 4]
    add_batch(settings, "disruptions", "emsou/disruptions_2024-11-01.csv", rows)
    # An amendment: the later version withdraws an approved disruption.
    amended = dict(rows[0], status="withdrawn")
    amended["recorded_at"] = rows[0]["recorded_at"].replace(hour=18)
    add_batch(settings, "disruptions", "emsou/disruptions_2024-11-02.csv", [amended])
    validate_new_batches(settings, "run-1")
    build_marts(settings, AS_OF)
    return settings


def alerts(settings):
    with open_warehouse(settings) as con:
        return con.execute(
            "SELECT severity, source, subject, message, details FROM audit.dq_alerts "
            "ORDER BY alert_id"
        ).fetchall()


def test_consistent_marts_pass_every_suite_and_the_reconciliation(built):
    summary = validate_marts(built, "run-1", AS_OF)
    assert summary.success, str(summary)
    assert len(summary.outcomes) == 7
    assert all(outcome.evaluated > 0 for outcome in summary.outcomes)
    assert alerts(built) == []


def test_a_total_that_is_not_the_sum_of_its_levels_fails_the_run_with_an_alert(built):
    with open_warehouse(built) as con:
        con.execute(
            "UPDATE marts.ocg_disruption_summary SET total_disruptions = total_disruptions + 1 "
            "WHERE ocg_id = 'OCG-2'"
        )
    with pytest.raises(PipelineError) as raised:
        validate_marts(built, "run-2", AS_OF)
    assert raised.value.alert_raised
    assert "ocg_disruption_summary" in str(raised.value) and "publishing blocked" in str(
        raised.value
    )

    by_subject = {a[2]: a for a in alerts(built)}
    [summary_alert] = [a for s, a in by_subject.items() if "marts.ocg_disruption_summary" in s]
    assert summary_alert[0] == "critical" and summary_alert[1] == "mart_validation"
    assert "total_minus_levels: 1 failing rows" in summary_alert[3]
    details = json.loads(summary_alert[4])
    assert details["mart"] == "marts.ocg_disruption_summary"
    assert {f["column"] for f in details["failures"]} == {"total_minus_levels"}
    # The totals no longer reconcile with the counted disruptions either.
    [reconciliation] = [a for s, a in by_subject.items() if "reconciliation" in s]
    assert "summary_counted, counted_in_staging" in reconciliation[3]


def test_a_mart_out_of_line_with_the_counted_disruptions_fails_the_reconciliation(built):
    with open_warehouse(built) as con:
        con.execute("DELETE FROM marts.disruptions_monthly WHERE impact = 'none'")
    with pytest.raises(PipelineError):
        validate_marts(built, "run-2", AS_OF)
    [alert] = alerts(built)
    assert "reconciliation" in alert[2]
    assert "monthly_counted, counted_in_staging" in alert[3]


def test_a_missing_mart_and_a_wrong_as_of_both_block_publishing(built):
    with open_warehouse(built) as con:
        con.execute("DROP TABLE marts.dim_ocg_assessment_history")
    with pytest.raises(PipelineError) as raised:
        validate_marts(built, "run-2", date(2025, 1, 31))
    message = str(raised.value)
    assert "dim_ocg_assessment_history" in message and "ocg_long_term_effect" in message
    subjects = " ".join(a[2] for a in alerts(built))
    assert "marts.dim_ocg_assessment_history" in subjects


def intermediate_model(settings, pick: str) -> None:
    """A stand-in for dbt's intermediate model, whose current version is the one `pick`
    (arg_max: the latest, as SPEC section 4 says; arg_min: the first) chooses."""
    with open_warehouse(settings) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS intermediate")
        con.execute(
            f"""
            CREATE OR REPLACE TABLE intermediate.int_disruptions_current AS
            SELECT disruption_id,
                   {pick}(status, (recorded_at, batch_id, line_number)) = 'approved'
                       AS is_counted
            FROM raw.disruptions
            GROUP BY disruption_id
            """
        )


def test_a_wrong_versioning_rule_in_the_intermediate_model_fails_the_recount(built):
    """dbt's intermediate model taking the first version as current (a systematic error
    in the versioning rule) is caught by the independent recount from raw."""
    intermediate_model(built, "arg_max")
    assert validate_marts(built, "run-1", AS_OF).success  # the right rule reconciles

    intermediate_model(built, "arg_min")
    with pytest.raises(PipelineError):
        validate_marts(built, "run-2", AS_OF)
    [alert] = [a for a in alerts(built) if "reconciliation" in a[2]]
    assert "counted_recomputed, counted_in_staging" in alert[3]
    details = json.loads(alert[4])
    [recount] = [f for f in details["failures"] if f["column"].startswith("counted_recomputed")]
    assert recount["severity"] == "critical"


def test_the_recount_follows_the_latest_version_with_or_without_packing(built):
    """The packed recount and the plain arg_max form agree, and both follow the amendment
    (the later, withdrawn version of a disruption that was approved is not counted)."""
    from disruptions.validate import RECOMPUTED_COUNTED_STRUCT_SQL, recount_counted

    intermediate_model(built, "arg_max")
    with open_warehouse(built) as con:
        staged = con.execute(
            "SELECT count(*) FILTER (WHERE is_counted) FROM intermediate.int_disruptions_current"
        ).fetchall()[0][0]
        plain = con.execute(RECOMPUTED_COUNTED_STRUCT_SQL, {"as_of": AS_OF.isoformat()}).fetchall()
        assert recount_counted(con, AS_OF) == plain[0][0] == staged
        # Approving the earlier version only must not change the count: it is superseded.
        first = con.execute(
            "SELECT disruption_id, min(recorded_at) FROM raw.disruptions "
            "GROUP BY 1 HAVING count(*) > 1"
        ).fetchall()
        assert first
        con.execute(
            "UPDATE raw.disruptions SET status = 'approved' "
            "WHERE disruption_id = ? AND recorded_at = ?",
            list(first[0]),
        )
        assert recount_counted(con, AS_OF) == staged
        # Approving the latest version does.
        con.execute(
            "UPDATE raw.disruptions SET status = 'approved' WHERE disruption_id = ?",
            [first[0][0]],
        )
        assert recount_counted(con, AS_OF) == staged + 1
