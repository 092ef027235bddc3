"""The package stands on its own: `pip install .` (not editable) into a fresh virtualenv,
then `disruptions demo --home DIR` from another folder, with no checkout in sight."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from disruptions.config import PROJECT_ROOT

pytestmark = pytest.mark.slow

UV = Path(sys.executable).parent / "uv"


def test_a_non_editable_install_runs_the_demo_from_anywhere(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [str(UV), "pip", "install", "--quiet", "--python", str(python)]
    subprocess.run(
        [*install, "--require-hashes", "-r", str(PROJECT_ROOT / "requirements.lock")], check=True
    )
    subprocess.run([*install, "--no-deps", str(PROJECT_ROOT)], check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DISRUPTIONS_", "AIRFLOW", "PYTHON"))
    }

    where = subprocess.run(
        [str(python), "-c", "from disruptions.config import PROJECT_FILES; print(PROJECT_FILES)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    home = tmp_path / "demo-home"
    demo = subprocess.run(
        [str(venv / "bin" / "disruptions"), "demo", "--home", str(home)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )

    # The project files come from inside the installed package, not from this checkout.
    assert Path(where).is_relative_to(venv) and Path(where).name == "_project"
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "demo finished" in demo.stdout
    con = duckdb.connect(str(home / "published" / "disruptions.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM marts.ocg_disruption_summary").fetchone()[0]
    finally:
        con.close()
    assert (home / "reports" / "report.html").is_file()
    assert not list(elsewhere.iterdir()), "the demo wrote into the folder it was run from"
