"""Fixtures for the validation tests: the loopback alert channels live in tests/alerts."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "alerts"))
