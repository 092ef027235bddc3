"""The real `disruptions` command in a fresh home, as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DISRUPTIONS = str(Path(sys.executable).parent / "disruptions")


class Cli:
    def __init__(self, home: Path, landing: Path) -> None:
        self.home = home
        self.landing = landing
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DISRUPTIONS_", "AIRFLOW"))
        }
        self.env.update(
            {
                "DISRUPTIONS_HOME": str(home),
                "DISRUPTIONS_LANDING": str(landing),
                "DISRUPTIONS_LANDING_SETTLE_SECONDS": "0",
            }
        )

    def __call__(
        self, *args: str, env: dict | None = None, prefix: list[str] | None = None, timeout=600
    ) -> subprocess.CompletedProcess:
        completed = subprocess.run(
            [*(prefix or []), DISRUPTIONS, *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        for stream in (completed.stdout, completed.stderr):
            assert "Traceback" not in stream, stream
        return completed


def fresh_cli(folder: Path) -> Cli:
    """A fresh home whose name holds a quote and a space (paths never enter SQL as text)."""
    home = folder / "o'brien home"
    landing = home / "landing"
    landing.mkdir(parents=True)
    return Cli(home, landing)


@pytest.fixture
def cli(tmp_path) -> Cli:
    return fresh_cli(tmp_path)


@pytest.fixture(scope="module")
def module_cli(tmp_path_factory) -> Cli:
    """One home for a module whose tests all read the result of one expensive run."""
    return fresh_cli(tmp_path_factory.mktemp("cli"))
