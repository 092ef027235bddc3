"""Fixtures for the report: the sample published file with its regional files, and a real
Chromium."""

from __future__ import annotations

import shutil

import pytest
from browser import Chromium, find_chromium  # tests/report is on sys.path
from report_helpers import published_sample


@pytest.fixture(scope="session")
def report_sample_file(tmp_path_factory):
    """The national sample, with every ROCU's regional file in regions/ beside it."""
    folder = tmp_path_factory.mktemp("report-sample")
    national = published_sample.build_published_sample(folder / "disruptions.duckdb")
    published_sample.build_regional_files(national, folder / "regions")
    return national


@pytest.fixture
def published(empty_settings, report_sample_file):
    """Settings whose $DISRUPTIONS_HOME holds a copy of the sample published file and of its
    regional files, and no working warehouse: the report reads published files only."""
    shutil.copyfile(report_sample_file, empty_settings.published_path)
    shutil.copytree(report_sample_file.parent / "regions", empty_settings.regional_published_dir)
    return empty_settings


@pytest.fixture(scope="session")
def chromium():
    executable = find_chromium()
    if executable is None:
        pytest.fail("chromium is not installed: run `make system-deps` (Debian package chromium)")
    with Chromium(executable) as browser:
        yield browser
