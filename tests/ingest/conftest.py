"""Helpers for the ingest tests: write landing files, run ingest, read the warehouse."""

from __future__ import annotations

import duckdb
import pytest

from disruptions.ingest import ingest_landing


@pytest.fixture
def land(settings):
    """Write a file into the landing folder (text is written as UTF-8, bytes as given)."""

    def write(relative: str, content: str | bytes):
        path = settings.landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_bytes(content.encode("utf-8"))
        else:
            path.write_bytes(content)
        return path

    return write


@pytest.fixture
def ingest(settings):
    def run():
        return ingest_landing(settings, run_id="test")

    return run


@pytest.fixture
def query(settings):
    """Read the working warehouse (ingest has released it by then)."""

    def run(sql: str, params=None):
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    return run
