"""Fixtures shared by every test area."""

from __future__ import annotations

import shutil

import pytest

from disruptions.config import Settings, load_settings

CHANNEL_VARIABLES = (
    "DISRUPTIONS_HOME",
    "DISRUPTIONS_LANDING",
    "DISRUPTIONS_SMTP_HOST",
    "DISRUPTIONS_ALERT_EMAIL_TO",
    "DISRUPTIONS_ALERT_WEBHOOK_URL",
)


@pytest.fixture(scope="session")
def reference_template(tmp_path_factory):
    """A home whose warehouse has the reference tables and the batch-status view, built
    once for the session by the real dbt (as the first ingest of any home has it do)."""
    from disruptions.transform.reference import ensure_reference_tables

    home = tmp_path_factory.mktemp("reference-template")
    ensure_reference_tables(load_settings(home=home, landing=home / "landing"))
    return home


def _fresh_settings(tmp_path, monkeypatch) -> Settings:
    for name in CHANNEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("DISRUPTIONS_HOME", str(home))
    # Tests write files and ingest them at once; a settle time would only slow them down.
    monkeypatch.setenv("DISRUPTIONS_LANDING_SETTLE_SECONDS", "0")
    settings = load_settings()
    settings.ensure_dirs()
    return settings


@pytest.fixture
def empty_settings(tmp_path, monkeypatch) -> Settings:
    """A fresh, empty DISRUPTIONS_HOME (no warehouse yet), no alert channels configured."""
    return _fresh_settings(tmp_path, monkeypatch)


@pytest.fixture
def settings(tmp_path, monkeypatch, reference_template) -> Settings:
    """A fresh DISRUPTIONS_HOME with no alert channels configured, whose warehouse already
    holds what dbt builds before the first ingest (a copy of the session's template),
    so that tests do not each pay dbt's start-up for it."""
    settings = _fresh_settings(tmp_path, monkeypatch)
    shutil.copyfile(reference_template / "warehouse.duckdb", settings.warehouse_path)
    shutil.copytree(reference_template / "dbt_target", settings.dbt_target_dir)
    return settings
