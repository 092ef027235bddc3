"""A published file shaped like publish.py's output, for the readers' tests."""

from __future__ import annotations

import shutil

import pytest
from published_sample import build_published_sample  # tests/query is on sys.path


@pytest.fixture(scope="session")
def published_sample_file(tmp_path_factory):
    """Built once; each test gets its own copy, so a test may change it freely."""
    return build_published_sample(tmp_path_factory.mktemp("sample") / "disruptions.duckdb")


@pytest.fixture
def published(empty_settings, published_sample_file):
    """Settings whose $DISRUPTIONS_HOME holds a copy of the sample published file, and no
    working warehouse (readers never need one)."""
    shutil.copyfile(published_sample_file, empty_settings.published_path)
    return empty_settings
