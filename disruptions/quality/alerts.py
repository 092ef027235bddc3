"""Data-quality and pipeline alerts: one row in audit.dq_alerts, the log, and each channel.

Order matters: the alert row is committed first, then the channels are tried. A channel
that fails is retried with exponential backoff and every attempt is recorded in
audit.alert_deliveries; a delivery failure never raises and never loses the alert row.

`rationale` is free text that may be sensitive and never leaves the raw layer, so every
alert is scrubbed of any key named rationale, at any depth, before it is stored or sent.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import duckdb

from disruptions.config import DeliveryPolicy, Settings, load_settings
from disruptions.errors import PipelineError
from disruptions.feeds import is_sensitive_column
from disruptions.warehouse import open_warehouse

logger = logging.getLogger("disruptions.alerts")

SEVERITIES = ("critical", "warning")
# Alerts carry a few examples, not the data: long lists and long strings are cut.
MAX_LIST_ITEMS = 20
MAX_STRING_CHARS = 300
MAX_MESSAGE_CHARS = 4000


@dataclass(frozen=True)
class Alert:
    alert_id: int
    raised_at: datetime
    run_id: str | None
    severity: str
    source: str
    subject: str
    message: str
    details: dict


@dataclass(frozen=True)
class DeliveryAttempt:
    channel: str
    attempt: int
    succeeded: bool
    error: str | None
    attempted_at: datetime


# --- content ----------------------------------------------------------------------------


def scrub(value: Any) -> Any:
    """A JSON-safe copy without any key named rationale (at any depth), with long lists
    and strings cut short."""
    if isinstance(value, dict):
        return {
            str(key): scrub(item) for key, item in value.items() if not is_sensitive_column(key)
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        kept = [scrub(item) for item in items[:MAX_LIST_ITEMS]]
        if len(items) > MAX_LIST_ITEMS:
            kept.append(f"... {len(items) - MAX_LIST_ITEMS} more")
        return kept
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if len(text) > MAX_STRING_CHARS:
        text = text[: MAX_STRING_CHARS - 3] + "..."
    return text


def _one_line(text: str, limit: int = MAX_STRING_CHARS) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def render_text(alert: Alert) -> str:
    """The human-readable body shared by email and webhook."""
    lines = [
        f"[{alert.severity.upper()}] {alert.subject}",
        "",
        alert.message,
        "",
        f"alert id:  {alert.alert_id}",
        f"raised at: {alert.raised_at.isoformat(timespec='seconds')}Z",
        f"source:    {alert.source}",
        f"run:       {alert.run_id or '-'}",
    ]
    if alert.details:
        lines += ["", "details:", json.dumps(alert.details, indent=2, sort_keys=False)]
    return "\n".join(lines)


def webhook_payload(alert: Alert) -> dict:
    """One JSON body that Slack (`text`) and Teams (MessageCard `title`/`text`) both take,
    with the structured fields alongside for anything else listening."""
    return {
        "text": render_text(alert),
        "title": f"[{alert.severity.upper()}] {alert.subject}",
        "summary": alert.subject,
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "themeColor": "D40000" if alert.severity == "critical" else "FFA500",
        "severity": alert.severity,
        "source": alert.source,
        "alert_id": alert.alert_id,
        "run_id": alert.run_id,
        "raised_at": alert.raised_at.isoformat(timespec="seconds") + "Z",
        "message": alert.message,
        "details": alert.details,
    }


# --- channels ---------------------------------------------------------------------------


def send_email(settings: Settings, alert: Alert, timeout: float) -> None:
    smtp = settings.smtp
    message = EmailMessage()
    message["Subject"] = f"[disruptions {alert.severity.upper()}] {alert.subject}"
    message["From"] = smtp.email_from or "disruptions@localhost"
    message["To"] = ", ".join(smtp.email_to)
    message["X-Disruptions-Alert-Id"] = str(alert.alert_id)
    message.set_content(render_text(alert))
    with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout) as client:
        if smtp.starttls:
            client.starttls(context=ssl.create_default_context())
        if smtp.user:
            client.login(smtp.user, smtp.password or "")
        client.send_message(message)


def post_webhook(settings: Settings, alert: Alert, timeout: float) -> None:
    url = settings.webhook_url or ""
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"webhook URL must be http(s): {url[:40]!r}")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=json.dumps(webhook_payload(alert)).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        response.read()


def configured_channels(settings: Settings) -> dict[str, Callable[[Settings, Alert, float], None]]:
    channels: dict[str, Callable[[Settings, Alert, float], None]] = {}
    if settings.smtp.enabled:
        channels["email"] = send_email
    if settings.webhook_url:
        channels["webhook"] = post_webhook
    return channels


# Channels that gave up recently, by channel and target: while one is down, later alerts
# try it once instead of backing off again, so a dead mail server cannot add seconds to
# every held batch of a run.
_GAVE_UP: dict[tuple[str, str], float] = {}
GAVE_UP_MEMORY_SECONDS = 300.0


def _channel_key(settings: Settings, channel: str) -> tuple[str, str]:
    if channel == "email":
        return channel, f"{settings.smtp.host}:{settings.smtp.port}"
    return channel, settings.webhook_url or ""


def deliver(settings: Settings, alert: Alert, policy: DeliveryPolicy) -> list[DeliveryAttempt]:
    """Try every configured channel, with backoff; return every attempt. Never raises."""
    attempts: list[DeliveryAttempt] = []
    for channel, send in configured_channels(settings).items():
        key = _channel_key(settings, channel)
        recently_down = time.monotonic() - _GAVE_UP.get(key, -1e9) < GAVE_UP_MEMORY_SECONDS
        tries = 1 if recently_down else policy.attempts
        delay = policy.first_delay_seconds
        for number in range(1, tries + 1):
            attempted_at = _utcnow()
            try:
                send(settings, alert, policy.timeout_seconds)
            except Exception as error:  # any failure of a channel is retried, then recorded
                reason = _one_line(f"{type(error).__name__}: {error}")
                attempts.append(DeliveryAttempt(channel, number, False, reason, attempted_at))
                logger.warning(
                    "alert %s: %s delivery attempt %d/%d failed: %s",
                    alert.alert_id,
                    channel,
                    number,
                    tries,
                    reason,
                )
                if number < tries:
                    time.sleep(delay)
                    delay *= 2
                continue
            attempts.append(DeliveryAttempt(channel, number, True, None, attempted_at))
            _GAVE_UP.pop(key, None)
            break
        else:
            _GAVE_UP[key] = time.monotonic()
            logger.error(
                "alert %s: %s delivery gave up after %d attempt(s)%s; the alert stays in "
                "audit.dq_alerts",
                alert.alert_id,
                channel,
                tries,
                " (it failed recently, so no backoff)" if recently_down else "",
            )
    return attempts


# --- the entry point --------------------------------------------------------------------


def _utcnow() -> datetime:
    # Naive UTC, like every TIMESTAMP in the warehouse.
    return datetime.now(UTC).replace(tzinfo=None)


def _insert_alert(con: duckdb.DuckDBPyConnection, alert_fields: dict) -> int:
    row = con.execute(
        """
        INSERT INTO audit.dq_alerts
            (alert_id, raised_at, run_id, severity, source, subject, message, details)
        VALUES (nextval('audit.alert_id_seq'), ?, ?, ?, ?, ?, ?, ?)
        RETURNING alert_id
        """,
        [
            alert_fields["raised_at"],
            alert_fields["run_id"],
            alert_fields["severity"],
            alert_fields["source"],
            alert_fields["subject"],
            alert_fields["message"],
            json.dumps(alert_fields["details"]),
        ],
    ).fetchall()
    return int(row[0][0])


def _insert_attempts(
    con: duckdb.DuckDBPyConnection, alert_id: int, attempts: list[DeliveryAttempt]
) -> None:
    if attempts:
        con.executemany(
            "INSERT INTO audit.alert_deliveries VALUES (?, ?, ?, ?, ?, ?)",
            [
                [alert_id, a.channel, a.attempt, a.succeeded, a.error, a.attempted_at]
                for a in attempts
            ],
        )


def raise_alert(
    settings: Settings,
    *,
    severity: str,
    source: str,
    subject: str,
    message: str,
    details: dict | None = None,
    run_id: str | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    policy: DeliveryPolicy | None = None,
) -> int:
    """Record, log and deliver one alert; return its alert_id.

    With `con` (a caller that already holds the writer lock and an open connection, maybe
    mid-transaction), the alert row is written through a cursor of that connection: a
    cursor is a separate DuckDB connection to the same database, so the row commits on
    its own at once. It is durable before any channel is tried, and it survives if the
    caller's transaction later rolls back (a crashed load that re-runs alerts again
    rather than losing the first alert). Without `con`, the warehouse is opened under the
    writer lock just long enough to write the row, and again to record the deliveries.
    """
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, not {severity!r}")
    policy = policy or settings.alert_delivery
    fields = {
        "raised_at": _utcnow(),
        "run_id": run_id,
        "severity": severity,
        "source": source,
        "subject": _one_line(subject),
        "message": str(message)[:MAX_MESSAGE_CHARS],
        "details": scrub(details or {}),
    }
    if con is not None:
        cursor = con.cursor()
        try:
            alert_id = _insert_alert(cursor, fields)
        finally:
            cursor.close()
    else:
        with open_warehouse(settings) as own:
            alert_id = _insert_alert(own, fields)
    alert = Alert(alert_id=alert_id, **fields)

    log_level = logging.ERROR if severity == "critical" else logging.WARNING
    logger.log(
        log_level,
        "alert %d [%s] %s: %s | %s",
        alert_id,
        source,
        alert.subject,
        _one_line(alert.message),
        json.dumps(alert.details)[:2000],
    )

    attempts = deliver(settings, alert, policy)
    try:
        if con is not None:
            cursor = con.cursor()
            try:
                _insert_attempts(cursor, alert_id, attempts)
            finally:
                cursor.close()
        else:
            with open_warehouse(settings) as own:
                _insert_attempts(own, alert_id, attempts)
    except Exception:  # the alert itself is stored; a lost attempt log must not fail a run
        logger.exception("alert %d: could not record its delivery attempts", alert_id)
    return alert_id


# --- Airflow ----------------------------------------------------------------------------


def _context_value(context: Any, *names: str) -> Any:
    for name in names:
        try:
            value = context.get(name) if hasattr(context, "get") else None
        except Exception:
            value = None
        if value is not None:
            return value
    return None


def airflow_failure_callback(context: Any) -> None:
    """Airflow on_failure_callback: a critical alert naming the DAG, task, run, logical
    date, try and the error, unless the task already raised a detailed alert
    (PipelineError with alert_raised=True). Never raises: a failing callback would hide
    the task's own failure."""
    try:
        exception = _context_value(context, "exception")
        if isinstance(exception, PipelineError) and exception.alert_raised:
            logger.info("task failure already alerted: %s", _one_line(str(exception)))
            return
        task_instance = _context_value(context, "task_instance", "ti")
        dag_run = _context_value(context, "dag_run")
        dag = _context_value(context, "dag")
        dag_id = (
            getattr(task_instance, "dag_id", None)
            or getattr(dag, "dag_id", None)
            or getattr(dag_run, "dag_id", None)
        )
        task_id = getattr(task_instance, "task_id", None) or getattr(
            _context_value(context, "task"), "task_id", None
        )
        run_id = _context_value(context, "run_id") or getattr(dag_run, "run_id", None)
        logical_date = _context_value(context, "logical_date") or getattr(
            dag_run, "logical_date", None
        )
        try_number = getattr(task_instance, "try_number", None)
        error = (
            _one_line(f"{type(exception).__name__}: {exception}")
            if exception is not None
            else "no exception in the task context"
        )
        raise_alert(
            load_settings(),
            severity="critical",
            source="airflow",
            subject=f"Airflow task {dag_id}.{task_id} failed",
            message=(
                f"Task {task_id} of DAG {dag_id} failed (run {run_id}, logical date "
                f"{logical_date}, try {try_number}): {error}"
            ),
            details={
                "dag_id": dag_id,
                "task_id": task_id,
                "run_id": run_id,
                "logical_date": logical_date,
                "try_number": try_number,
                "error": error,
            },
            run_id=str(run_id) if run_id is not None else None,
        )
    except Exception:
        logger.exception("airflow_failure_callback could not raise its alert")
