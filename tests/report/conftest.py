"""Fixtures for the report: the sample published file, and a real Chromium."""

from __future__ import annotations

import shutil

import pytest
from browser import Chromium, find_chromium  # tests/report is on sys.path
from report_helpers import published_sample


@pytest.fixture(scope="session")
def report_sample_file(tmp_path_factory):
    return published_sample.build_published_sample(
        tmp_path_factory.mktemp("report-sample") / "disruptions.duckdb"
    )


@pytest.fixture
def published(settings, report_sample_file):
    """Settings whose $DISRUPTIONS_HOME holds a copy of the sample published file."""
    shutil.copyfile(report_sample_file, settings.published_path)
    return settings


@pytest.fixture(scope="session")
def chromium():
    executable = find_chromium()
    if executable is None:
        pytest.fail("chromium is not installed: run `make system-deps` (Debian package chromium)")
    with Chromium(executable) as browser:
        yield browser
