"""Fixtures for the alert tests."""

from __future__ import annotations

import pytest

from disruptions.quality import alerts


@pytest.fixture(autouse=True)
def forget_failed_channels():
    """Each test starts with no channel remembered as down."""
    alerts._GAVE_UP.clear()
    yield
    alerts._GAVE_UP.clear()
