"""Fixtures shared by every test area."""

from __future__ import annotations

import pytest

from disruptions.config import Settings, load_settings


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    """A fresh, empty DISRUPTIONS_HOME with no alert channels configured."""
    for name in (
        "DISRUPTIONS_HOME",
        "DISRUPTIONS_LANDING",
        "DISRUPTIONS_SMTP_HOST",
        "DISRUPTIONS_ALERT_EMAIL_TO",
        "DISRUPTIONS_ALERT_WEBHOOK_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("DISRUPTIONS_HOME", str(home))
    # Tests write files and ingest them at once; a settle time would only slow them down.
    monkeypatch.setenv("DISRUPTIONS_LANDING_SETTLE_SECONDS", "0")
    settings = load_settings()
    settings.ensure_dirs()
    return settings
