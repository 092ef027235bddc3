"""A published file shaped like publication's output, and its regional files, for the
readers' tests."""

from __future__ import annotations

import shutil

import pytest
from published_sample import (  # tests/query is on sys.path
    build_published_sample,
    build_regional_files,
)


@pytest.fixture(scope="session")
def published_sample_file(tmp_path_factory):
    """Built once, with its regional files in regions/ beside it; each test gets its own
    copy, so a test may change it freely."""
    folder = tmp_path_factory.mktemp("sample")
    national = build_published_sample(folder / "disruptions.duckdb")
    build_regional_files(national, folder / "regions")
    return national


@pytest.fixture
def published(empty_settings, published_sample_file):
    """Settings whose $DISRUPTIONS_HOME holds a copy of the sample published file and of its
    regional files, and no working warehouse (readers never need one)."""
    shutil.copyfile(published_sample_file, empty_settings.published_path)
    shutil.copytree(published_sample_file.parent / "regions", empty_settings.regional_published_dir)
    return empty_settings
