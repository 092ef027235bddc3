"""Alerts reach audit.dq_alerts, the log and real loopback channels; failures are retried."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime
from types import SimpleNamespace

import pytest
from alert_loopback import SmtpServer, WebhookServer, configure_channels, free_port

from disruptions.config import load_settings
from disruptions.errors import PipelineError
from disruptions.quality.alerts import airflow_failure_callback, raise_alert, scrub
from disruptions.warehouse import open_warehouse

BATCH_DETAILS = {
    "feed": "disruptions",
    "source_file": "emsou/disruptions_2026-10-30.csv",
    "batch_id": 17,
    "failures": [
        {
            "expectation": "expect_compound_columns_to_be_unique",
            "failing_rows": 2,
            "samples": [{"disruption_id": "D-1", "rationale": "SECRET informant name"}],
        }
    ],
    "record": {"disruption_id": "D-1", "Rationale": "SECRET source compromised"},
    "rationale": "SECRET top-level",
}


def alert_rows(settings):
    with open_warehouse(settings) as con:
        return con.execute(
            "SELECT alert_id, severity, source, subject, message, details, run_id "
            "FROM audit.dq_alerts ORDER BY alert_id"
        ).fetchall()


def delivery_rows(settings):
    with open_warehouse(settings) as con:
        return con.execute(
            "SELECT alert_id, channel, attempt, succeeded, error, attempted_at "
            "FROM audit.alert_deliveries ORDER BY channel, attempt"
        ).fetchall()


def raise_batch_alert(settings, **overrides):
    arguments = {
        "severity": "critical",
        "source": "batch_validation",
        "subject": "Batch 17 held: disruptions file emsou/disruptions_2026-10-30.csv",
        "message": "expect_compound_columns_to_be_unique on disruption_id, recorded_at: "
        "2 failing rows",
        "details": BATCH_DETAILS,
        "run_id": "run-1",
    }
    arguments.update(overrides)
    return raise_alert(settings, **arguments)


def test_scrub_drops_rationale_at_any_depth_and_caps_long_values():
    cleaned = scrub({"a": [{"RATIONALE ": "x", "b": "y" * 1000}], "rationale": "z"})
    assert cleaned == {"a": [{"b": "y" * 297 + "..."}]}
    assert len(scrub({"samples": list(range(100))})["samples"]) == 21


def test_alert_is_stored_logged_and_emailed_naming_file_batch_and_expectation(
    settings, monkeypatch, caplog
):
    with SmtpServer() as smtp:
        configure_channels(monkeypatch, smtp_port=smtp.port)
        settings = load_settings()
        with caplog.at_level(logging.WARNING, logger="disruptions.alerts"):
            alert_id = raise_batch_alert(settings)

    [row] = alert_rows(settings)
    assert row[0] == alert_id
    assert row[1:3] == ("critical", "batch_validation")
    details = json.loads(row[5])
    assert details["failures"][0]["samples"] == [{"disruption_id": "D-1"}]
    assert "SECRET" not in json.dumps(details) and "rationale" not in json.dumps(details).lower()

    [email] = smtp.messages
    assert email["to"] == ["oncall@rocu.example", "steward@rocu.example"]
    message = email["message"]
    assert "CRITICAL" in message["Subject"] and "Batch 17 held" in message["Subject"]
    body = message.get_content()
    for needle in ("disruptions_2026-10-30.csv", "17", "expect_compound_columns_to_be_unique"):
        assert needle in body
    assert "SECRET" not in message.as_string()

    [record] = [r for r in caplog.records if r.name == "disruptions.alerts"]
    assert record.levelno == logging.ERROR and "Batch 17 held" in record.getMessage()
    assert "SECRET" not in record.getMessage()
    assert [(d[1], d[2], d[3]) for d in delivery_rows(settings)] == [("email", 1, True)]


def test_webhook_gets_one_json_body_slack_and_teams_can_take(settings, monkeypatch):
    with WebhookServer() as hook:
        configure_channels(monkeypatch, webhook_url=hook.url)
        alert_id = raise_batch_alert(load_settings(), severity="warning")
    [request] = hook.requests
    assert request["headers"]["Content-Type"] == "application/json"
    body = request["json"]
    assert body["alert_id"] == alert_id
    assert body["severity"] == "warning"
    assert "[WARNING] Batch 17 held" in body["title"]
    assert "emsou/disruptions_2026-10-30.csv" in body["text"]  # Slack shows `text`
    assert body["@type"] == "MessageCard" and body["summary"]  # Teams connector card
    assert body["details"]["batch_id"] == 17
    assert "SECRET" not in json.dumps(body)


def test_failing_webhook_is_retried_with_backoff_recorded_and_the_alert_survives(
    settings, monkeypatch
):
    with WebhookServer(status=500) as hook:
        configure_channels(monkeypatch, webhook_url=hook.url, delay="0.2")
        started = time.monotonic()
        alert_id = raise_batch_alert(load_settings())
        elapsed = time.monotonic() - started
    assert len(hook.requests) == 3
    deliveries = delivery_rows(settings)
    assert [(d[0], d[1], d[2], d[3]) for d in deliveries] == [
        (alert_id, "webhook", 1, False),
        (alert_id, "webhook", 2, False),
        (alert_id, "webhook", 3, False),
    ]
    assert all("500" in d[4] for d in deliveries)
    gaps = [(b[5] - a[5]).total_seconds() for a, b in zip(deliveries, deliveries[1:], strict=False)]
    assert gaps[0] >= 0.19 and gaps[1] >= 0.39  # 0.2 s, then doubled
    assert 0.6 <= elapsed < 5
    assert [row[0] for row in alert_rows(settings)] == [alert_id]


def test_closed_smtp_port_is_retried_and_a_later_success_stops_the_retries(settings, monkeypatch):
    closed = free_port()
    with WebhookServer() as hook:
        configure_channels(monkeypatch, smtp_port=closed, webhook_url=hook.url)
        alert_id = raise_batch_alert(load_settings())
    deliveries = delivery_rows(settings)
    email = [d for d in deliveries if d[1] == "email"]
    webhook = [d for d in deliveries if d[1] == "webhook"]
    assert [(d[2], d[3]) for d in email] == [(1, False), (2, False), (3, False)]
    assert "Connection refused" in email[0][4] or "ConnectionRefused" in email[0][4]
    assert [(d[2], d[3]) for d in webhook] == [(1, True)]
    assert len(hook.requests) == 1
    assert alert_rows(settings)[0][0] == alert_id


def test_a_channel_that_just_gave_up_is_tried_once_until_it_works_again(settings, monkeypatch):
    with WebhookServer(status=500) as hook:
        configure_channels(monkeypatch, webhook_url=hook.url)
        current = load_settings()
        raise_batch_alert(current)
        second = raise_batch_alert(current)
        assert len(hook.requests) == 4  # three tries, then one
        hook.status = 200
        raise_batch_alert(current)
        hook.status = 500
        raise_batch_alert(current)
        assert len(hook.requests) == 4 + 1 + 3  # working again: full backoff again
    tries = [(d[0], d[2], d[3]) for d in delivery_rows(settings) if d[0] == second]
    assert tries == [(second, 1, False)]


def test_no_channel_configured_means_no_delivery_but_the_alert_is_kept(settings):
    alert_id = raise_batch_alert(settings)
    assert alert_rows(settings)[0][0] == alert_id
    assert delivery_rows(settings) == []


def test_alert_written_through_a_callers_connection_survives_its_rollback(settings):
    with open_warehouse(settings) as con:
        con.execute("BEGIN TRANSACTION")
        con.execute(
            "INSERT INTO audit.load_batches (batch_id, feed, source_file, status, started_at) "
            "VALUES (99, 'disruptions', 'x.csv', 'rejected_file', now())"
        )
        alert_id = raise_batch_alert(settings, con=con)
        con.execute("ROLLBACK")
        assert con.execute("SELECT count(*) FROM audit.load_batches").fetchone()[0] == 0
    assert [row[0] for row in alert_rows(settings)] == [alert_id]


def test_unknown_severity_is_refused(settings):
    with pytest.raises(ValueError, match="severity"):
        raise_batch_alert(settings, severity="info")
    assert alert_rows(settings) == []


def airflow_context(exception):
    task_instance = SimpleNamespace(dag_id="disruptions_nightly", task_id="dbt_build", try_number=2)
    return {
        "ti": task_instance,
        "task_instance": task_instance,
        "run_id": "scheduled__2026-10-31T02:00:00+00:00",
        "logical_date": datetime(2026, 10, 31, 2, 0),
        "exception": exception,
    }


def test_airflow_failure_callback_raises_a_critical_alert_naming_the_task(settings):
    airflow_failure_callback(
        airflow_context(RuntimeError("dbt exited with code 1\nsecond line of detail"))
    )
    [row] = alert_rows(settings)
    assert row[1:3] == ("critical", "airflow")
    assert "disruptions_nightly.dbt_build" in row[3]
    for needle in ("dbt_build", "disruptions_nightly", "scheduled__2026-10-31", "2026-10-31"):
        assert needle in row[4]
    assert "try 2" in row[4]
    assert "RuntimeError: dbt exited with code 1 second line of detail" in row[4]
    assert row[6] == "scheduled__2026-10-31T02:00:00+00:00"


def test_airflow_failure_callback_stays_quiet_when_the_task_already_alerted(settings):
    airflow_failure_callback(
        airflow_context(PipelineError("marts failed validation", alert_raised=True))
    )
    airflow_failure_callback(airflow_context(PipelineError("no alert yet")))
    rows = alert_rows(settings)
    assert len(rows) == 1 and "no alert yet" in rows[0][4]


def test_airflow_failure_callback_never_raises(settings, monkeypatch):
    airflow_failure_callback(None)
    airflow_failure_callback({"ti": object(), "exception": ValueError("x")})
    monkeypatch.setenv("DISRUPTIONS_HOME", "/proc/not-writable-home")
    airflow_failure_callback(airflow_context(RuntimeError("boom")))
