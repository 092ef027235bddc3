"""What the engine tests share: one sample, run once on the embedded engine, to compare
every other engine's marts with, value for value (SPEC section 7)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

CLI = str(Path(sys.executable).with_name("disruptions"))
AS_OF = "2026-11-15"


@dataclass(frozen=True)
class EngineSample:
    """A landing folder (with bad input) and the home the DuckDB engine ran it in."""

    root: Path
    landing: Path
    duck_home: Path


def engine_env(engine: str, **settings: str) -> dict[str, str]:
    env = os.environ.copy()
    env["DISRUPTIONS_LANDING_SETTLE_SECONDS"] = "0"
    for name in ("DISRUPTIONS_POSTGRES_URL", "DISRUPTIONS_SPARK_MASTER"):
        env.pop(name, None)
    env["DISRUPTIONS_ENGINE"] = engine
    env.update(settings)
    return env


def run_night(home: Path, landing: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`disruptions run`: the nightly DAG, a real Airflow run, as of AS_OF."""
    run = subprocess.run(
        [CLI, "run", "--home", str(home), "--landing", str(landing), "--as-of", AS_OF],
        env=env,
        capture_output=True,
        text=True,
    )
    engine = env.get("DISRUPTIONS_ENGINE")
    assert run.returncode == 0, f"{engine} run failed:\n{run.stdout}\n{run.stderr}"
    return run


def make_sample(root: Path) -> EngineSample:
    sample = EngineSample(root, root / "landing", root / "duckdb-home")
    subprocess.run(
        [CLI, "generate", "--out", str(sample.landing), "--ocgs", "300"]
        + ["--disruptions", "3000", "--with-bad-input", "--end-date", "2026-10-31"],
        check=True,
        capture_output=True,
    )
    run_night(sample.duck_home, sample.landing, engine_env("duckdb"))
    return sample


def rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)


def columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple]:
    return con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()


def assert_same_rows(expected: list[tuple], actual: list[tuple], what: str) -> None:
    """Equal value for value; floats within 1e-9 relative (SPEC section 7)."""
    assert len(actual) == len(expected), what
    for want, got in zip(expected, actual, strict=True):
        for a, b in zip(want, got, strict=True):
            if isinstance(a, float) and isinstance(b, float):
                assert math.isclose(a, b, rel_tol=1e-9), f"{what}: {want} != {got}"
            else:
                assert a == b, f"{what}: {want} != {got}"
