"""Real alert channels on loopback for the tests: an SMTP server (aiosmtpd) and an HTTP
webhook receiver (http.server in a thread)."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _CollectingHandler:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(
            {
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "message": message_from_bytes(envelope.content, policy=policy.default),
            }
        )
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on 127.0.0.1; `messages` holds every email received."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handler = _CollectingHandler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self):
        return self.handler.messages

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


class WebhookServer:
    """A loopback HTTP server answering POSTs with `status`; `requests` holds the bodies."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append(
                    {"headers": dict(self.headers), "json": json.loads(body or b"null")}
                )
                self.send_response(outer.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def configure_channels(monkeypatch, *, smtp_port=None, webhook_url=None, delay="0.05"):
    """Point the alert channels at loopback servers through the real environment variables."""
    if smtp_port is not None:
        monkeypatch.setenv("DISRUPTIONS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("DISRUPTIONS_SMTP_PORT", str(smtp_port))
        monkeypatch.setenv("DISRUPTIONS_ALERT_EMAIL_FROM", "pipeline@rocu.example")
        monkeypatch.setenv(
            "DISRUPTIONS_ALERT_EMAIL_TO", "oncall@rocu.example, steward@rocu.example"
        )
    if webhook_url is not None:
        monkeypatch.setenv("DISRUPTIONS_ALERT_WEBHOOK_URL", webhook_url)
    monkeypatch.setenv("DISRUPTIONS_ALERT_RETRY_DELAY_SECONDS", delay)
    monkeypatch.setenv("DISRUPTIONS_ALERT_TIMEOUT_SECONDS", "5")
