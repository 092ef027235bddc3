"""Fixtures for the validation tests: the loopback alert channels live in tests/alerts."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "alerts"))

import pytest  # noqa: E402

from disruptions.quality import alerts  # noqa: E402


@pytest.fixture(autouse=True)
def forget_failed_channels():
    """Each test starts with no alert channel remembered as down."""
    alerts._GAVE_UP.clear()
    yield
    alerts._GAVE_UP.clear()
