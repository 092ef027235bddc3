"""The query tests' sample published file, loaded by path: test folders are not packages."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "published_sample", Path(__file__).resolve().parent.parent / "query" / "published_sample.py"
)
published_sample = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(published_sample)
