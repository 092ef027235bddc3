"""`make bench`: every pipeline phase at national scale and beyond, against the DuckDB floor.

For N disruption rows (plus proportional OCGs and assessments) it generates the data once
with the project's generator, then, for each repetition, in a fresh DISRUPTIONS_HOME:
ingest → batch validation → dbt build (with its tests) → publish, each phase in its own
process; then the whole run through Airflow in another fresh home; then the floor (one plain
DuckDB process reading the same files and computing per-OCG impact counts in one query).
Finally the incremental night: 1% new rows and amendments on top of the loaded history.

Medians over the repetitions, ratios to the floor measured in the same run, and peak RSS
per phase are printed as a table and written as JSON for later runs to compare against.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from benchmarks.chart import render_chart
from disruptions.ingest.discovery import TIMESTAMP_TRUST_SECONDS

REPO = Path(__file__).resolve().parent.parent
# The tests' throwaway PostgreSQL cluster and Spark standalone cluster, shared with them.
sys.path.insert(0, str(REPO / "tests"))
import spark_cluster  # noqa: E402
from postgres_server import MISSING, PG_BIN  # noqa: E402

AS_OF = date(2026, 10, 31)
# The demo's proportions: 4,500 OCGs for about 65,000 disruption rows.
OCGS_PER_DISRUPTION = 4500 / 65000
# A night's work, phase by phase, as the DAG's tasks do it ("reference" is what a fresh
# home's first ingest has dbt build; on later nights it is a check of a fingerprint).
PIPELINE_PHASES = (
    "reference",
    "ingest",
    "validate_batches",
    "dbt_build",
    "publish",
    "report_and_docs",
)
NIGHT_PHASES = PIPELINE_PHASES
FLOORS = ("floor_read", "floor_storage", "floor_query")


def measure_rss(
    phase: str, home: Path, landing: Path, as_of: date = AS_OF, env: dict | None = None
) -> tuple[float, float]:
    """Run one phase in its own process; return its wall seconds and peak RSS in MiB.

    wait4 gives the rusage of exactly that child, so phases do not blur into each other.
    `env` adds to the environment (the postgres engine's settings, say).
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.phase", phase, str(home), as_of.isoformat()]
        + [str(landing)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DISRUPTIONS_LANDING_SETTLE_SECONDS": "0", **(env or {})},
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    stdout, stderr = process.stdout.read(), process.stderr.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"benchmark phase {phase} failed:\n{stderr[-3000:]}")
    json.loads(stdout.strip().splitlines()[-1])
    return wall, usage.ru_maxrss / 1024


def generate_history(data_dir: Path, rows: int, seed: int) -> Path:
    """Generate the benchmark's feeds once; reuse them when the same size is asked again.

    In a child process: a child inherits its parent's peak RSS at fork, so generating 10M
    rows in this process would inflate every phase's measured peak.
    """
    landing = data_dir / f"landing-{rows}"
    marker = landing / ".complete"
    if marker.exists():
        return landing
    shutil.rmtree(landing, ignore_errors=True)
    ocgs = max(100, round(rows * OCGS_PER_DISRUPTION))
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "disruptions.cli", "generate", "--out", str(landing)]
        + ["--ocgs", str(ocgs), "--disruptions", str(rows), "--seed", str(seed)]
        + ["--layout", "single", "--end-date", AS_OF.isoformat()],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"generated {rows:,} disruption rows in {time.perf_counter() - started:.1f}s", flush=True)
    marker.touch()
    return landing


def fresh_home(data_dir: Path, name: str) -> Path:
    home = data_dir / name
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    return home


def marts_fingerprint(warehouse: Path) -> dict[str, str]:
    """A content hash per mart, to prove incremental and full-refresh builds agree."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [
            row[0]
            for row in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'marts' ORDER BY 1"
            ).fetchall()
        ]
        return {
            table: str(
                con.execute(
                    f"SELECT count(*), sum(hash(t)) FROM (SELECT * FROM marts.{table}) AS t"
                ).fetchone()
            )
            for table in tables
        }
    finally:
        con.close()


def incremental_night(data_dir: Path, landing: Path, rows: int, seed: int) -> dict:
    """Load the history, add 1% new rows and amendments, and time the nightly run."""
    home = fresh_home(data_dir, "home-incremental")
    night_landing = data_dir / "landing-incremental"
    shutil.rmtree(night_landing, ignore_errors=True)
    shutil.copytree(landing, night_landing, ignore=shutil.ignore_patterns(".complete"))
    # Landing files are older than the settle time when a night runs. Just-copied ones are
    # not, and ingest would (rightly) hash them again the next night instead of trusting
    # their unchanged status (see ingest_discovery.TIMESTAMP_TRUST_SECONDS).
    time.sleep(TIMESTAMP_TRUST_SECONDS + 0.5)
    full_seconds = sum(measure_rss(p, home, night_landing)[0] for p in PIPELINE_PHASES)

    ocgs = max(100, round(rows * OCGS_PER_DISRUPTION))
    increment = (
        "from datetime import date; from pathlib import Path; "
        "from disruptions.synth import generate_increment; "
        f"generate_increment(Path({str(night_landing)!r}), base_ocgs={ocgs}, "
        f"base_disruptions={rows}, seed={seed}, end_date=date.fromisoformat({AS_OF.isoformat()!r}))"
    )
    subprocess.run([sys.executable, "-c", increment], cwd=REPO, check=True)
    # The increment is recorded on the night after the history ends, so that night's run
    # has as_of one day later; otherwise the point-in-time rule would leave it all out.
    night_as_of = AS_OF + timedelta(days=1)
    night = {
        phase: measure_rss(phase, home, night_landing, night_as_of)[0] for phase in NIGHT_PHASES
    }
    night_seconds = sum(night.values())
    incremental = marts_fingerprint(home / "warehouse.duckdb")

    shutil.copy(home / "warehouse.duckdb", data_dir / "warehouse-full-refresh.duckdb")
    refresh_home = fresh_home(data_dir, "home-full-refresh")
    shutil.move(data_dir / "warehouse-full-refresh.duckdb", refresh_home / "warehouse.duckdb")
    measure_rss("dbt_build_full_refresh", refresh_home, night_landing, night_as_of)
    full_refresh = marts_fingerprint(refresh_home / "warehouse.duckdb")
    # The next night: nothing new has landed, and as_of moves on a day.
    quiet = {
        phase: measure_rss(phase, home, night_landing, night_as_of + timedelta(days=1))[0]
        for phase in NIGHT_PHASES
    }
    quiet_seconds = sum(quiet.values())
    return {
        "full_run_seconds": full_seconds,
        "night_seconds": night_seconds,
        "night_phases": night,
        "night_share_of_full": night_seconds / full_seconds,
        "identical_to_full_refresh": incremental == full_refresh,
        "quiet_night_seconds": quiet_seconds,
        "quiet_night_phases": quiet,
        "quiet_night_share_of_full": quiet_seconds / full_seconds,
    }


def airflow_steps(home: Path) -> dict[str, float]:
    """Each task's seconds in the Airflow run of `home`, from its run ledger in the warehouse,
    and what the run spent outside them (Airflow's own start, task scheduling)."""
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT step, epoch(finished_at - started_at) FROM audit.pipeline_runs "
            "WHERE finished_at IS NOT NULL ORDER BY started_at"
        ).fetchall()
    finally:
        con.close()
    return {step: seconds for step, seconds in rows}


@contextlib.contextmanager
def postgres_warehouse() -> Iterator[Callable[[str], str]]:
    """A throwaway PostgreSQL cluster (Debian's server binaries, loopback) with the
    pipeline's writer; yields a function that creates a fresh database and returns its
    DISRUPTIONS_POSTGRES_URL."""
    import psycopg
    from postgres_server import postgres_cluster

    password = secrets.token_urlsafe(16)
    with postgres_cluster(superuser="admin") as port:
        admin_url = f"postgresql://admin@127.0.0.1:{port}/postgres"
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"CREATE ROLE disruptions_writer LOGIN CREATEROLE PASSWORD '{password}'")

        def fresh_database(name: str) -> str:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name}")
                admin.execute(f"CREATE DATABASE {name} OWNER disruptions_writer")
            return f"postgresql://disruptions_writer:{password}@127.0.0.1:{port}/{name}"

        yield fresh_database


def previous_round(out_file: Path) -> dict | None:
    """The figures of the last `make bench` at this size, kept beside the new ones."""
    try:
        previous = json.loads(out_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    previous.pop("previous_round", None)
    return previous


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument("--data-dir", type=Path, default=REPO / "bench-data")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--skip-airflow", action="store_true")
    parser.add_argument("--skip-incremental", action="store_true")
    parser.add_argument(
        "--skip-postgres",
        action="store_true",
        help="skip the whole run on the postgres engine (needs PostgreSQL's server binaries)",
    )
    parser.add_argument(
        "--skip-spark",
        action="store_true",
        help="skip the whole run on the spark engine (needs make venv-spark and Java)",
    )
    args = parser.parse_args()

    args.data_dir.mkdir(parents=True, exist_ok=True)
    landing = generate_history(args.data_dir, args.rows, args.seed)

    samples: dict[str, list[float]] = {}
    peak_rss: dict[str, float] = {}
    airflow_samples: dict[str, list[float]] = {}

    def record(phase: str, seconds: float, rss: float) -> None:
        samples.setdefault(phase, []).append(seconds)
        peak_rss[phase] = max(peak_rss.get(phase, 0.0), rss)
        print(f"  {phase:<18} {seconds:8.2f}s  {rss:8.0f} MiB", flush=True)

    engine_samples: dict[str, dict[str, list[float]]] = {"postgres": {}, "spark": {}}

    def record_engine_night(engine: str, home: Path, seconds: float, rss: float) -> None:
        record(f"airflow_run_{engine}", seconds, rss)
        steps = airflow_steps(home)
        steps["outside the tasks"] = seconds - sum(steps.values())
        for step, step_seconds in steps.items():
            engine_samples[engine].setdefault(step, []).append(step_seconds)

    with contextlib.ExitStack() as stack:
        postgres = spark_master = None
        if not (args.skip_postgres or args.skip_airflow):
            if not PG_BIN:
                raise SystemExit(f"{MISSING}, or pass --skip-postgres")
            postgres = stack.enter_context(postgres_warehouse())
        if not (args.skip_spark or args.skip_airflow):
            if not spark_cluster.AVAILABLE:
                raise SystemExit(f"{spark_cluster.MISSING}, or pass --skip-spark")
            # A standalone master and a worker with both cores, as in the tests.
            spark_master = stack.enter_context(
                spark_cluster.spark_cluster(args.data_dir / "spark-cluster", memory="6g")
            )
        for rep in range(1, args.reps + 1):
            print(f"repetition {rep}/{args.reps}", flush=True)
            for floor in FLOORS:
                record(floor, *measure_rss(floor, args.data_dir, landing))
            home = fresh_home(args.data_dir, "home-phases")
            for phase in PIPELINE_PHASES:
                record(phase, *measure_rss(phase, home, landing))
            if not args.skip_airflow:
                airflow_home = fresh_home(args.data_dir, "home-airflow")
                seconds, rss = measure_rss("airflow_run", airflow_home, landing)
                record("airflow_run", seconds, rss)
                steps = airflow_steps(airflow_home)
                steps["outside the tasks"] = seconds - sum(steps.values())
                for step, step_seconds in steps.items():
                    airflow_samples.setdefault(step, []).append(step_seconds)
            if postgres is not None:
                # The same whole night on the postgres engine, in a fresh database.
                url = postgres(f"bench_{rep}")
                pg_home = fresh_home(args.data_dir, "home-postgres")
                env = {"DISRUPTIONS_ENGINE": "postgres", "DISRUPTIONS_POSTGRES_URL": url}
                seconds, rss = measure_rss("airflow_run", pg_home, landing, env=env)
                record_engine_night("postgres", pg_home, seconds, rss)
            if spark_master is not None:
                # And on the spark engine, on the cluster, with a fresh warehouse folder.
                spark_home = fresh_home(args.data_dir, "home-spark")
                env = {
                    "DISRUPTIONS_ENGINE": "spark",
                    "DISRUPTIONS_SPARK_MASTER": spark_master,
                    "DISRUPTIONS_SPARK_EXECUTOR_MEMORY": "4g",
                    "DISRUPTIONS_SPARK_DRIVER_MEMORY": "2g",
                }
                seconds, rss = measure_rss("airflow_run", spark_home, landing, env=env)
                record_engine_night("spark", spark_home, seconds, rss)

    medians = {phase: statistics.median(values) for phase, values in samples.items()}
    floor = medians["floor_query"]
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
        },
        "rows": args.rows,
        "repetitions": args.reps,
        "median_seconds": medians,
        "ratio_to_floor": {phase: seconds / floor for phase, seconds in medians.items()},
        "ratio_to_storage_floor": {
            phase: seconds / medians["floor_storage"] for phase, seconds in medians.items()
        },
        "airflow_steps_median_seconds": {
            step: statistics.median(values) for step, values in airflow_samples.items()
        },
        **{
            f"{engine}_airflow_steps_median_seconds": {
                step: statistics.median(values) for step, values in steps.items()
            }
            for engine, steps in engine_samples.items()
            if steps
        },
        "peak_rss_mib": peak_rss,
        "samples": samples,
    }
    if not args.skip_incremental:
        print("incremental night (1% new rows and amendments), then a night with none", flush=True)
        result["incremental_night"] = incremental_night(
            args.data_dir, landing, args.rows, args.seed
        )
    result["targets"] = verdicts(result)

    args.out.mkdir(parents=True, exist_ok=True)
    out_file = args.out / f"bench-{args.rows}.json"
    result["previous_round"] = previous_round(out_file)
    print_table(result)
    out_file.write_text(json.dumps(result, indent=2) + "\n")
    chart_file = out_file.with_suffix(".svg")
    chart_file.write_text(render_chart(result), encoding="utf-8")
    print(f"\nwrote {out_file} and {chart_file}")


def verdicts(result: dict) -> list[dict]:
    """Each target of the performance issue that this run can judge, met or missed."""
    medians, targets = result["median_seconds"], []

    def judge(what: str, value: float, limit: float, unit: str) -> None:
        targets.append({"target": what, "value": value, "limit": limit, "unit": unit,
                        "met": value <= limit})  # fmt: skip

    judge("ingest / storage floor", medians["ingest"] / medians["floor_storage"], 1.3, "x")
    judge("full dbt build / floor", result["ratio_to_floor"]["dbt_build"], 5.0, "x")
    if "airflow_run" in medians:
        judge(
            "full run through Airflow / floor", result["ratio_to_floor"]["airflow_run"], 12.0, "x"
        )
    night = result.get("incremental_night")
    if night:
        judge("incremental night / full run", night["night_share_of_full"], 0.15, "share")
        judge(
            "night with no new files / full run", night["quiet_night_share_of_full"], 0.10, "share"
        )
    judge("peak RSS", max(result["peak_rss_mib"].values()), 3072, "MiB")
    return targets


def print_table(result: dict) -> None:
    print(f"\n{result['rows']:,} disruption rows, median of {result['repetitions']} runs")
    previous = (result.get("previous_round") or {}).get("median_seconds", {})
    print(f"{'phase':<24}{'median s':>10}{'× floor':>10}{'peak MiB':>10}{'previous s':>12}")
    for phase, seconds in result["median_seconds"].items():
        ratio = result["ratio_to_floor"][phase]
        rss = result["peak_rss_mib"].get(phase, 0)
        before = f"{previous[phase]:.2f}" if phase in previous else "–"
        print(f"{phase:<24}{seconds:>10.2f}{ratio:>10.2f}{rss:>10.0f}{before:>12}")
    steps = result.get("airflow_steps_median_seconds")
    if steps:
        print("inside the Airflow run: " + ", ".join(f"{k} {v:.1f}s" for k, v in steps.items()))
    night = result.get("incremental_night")
    if night:
        print(
            f"incremental night {night['night_seconds']:.1f}s, no-new-files night "
            f"{night['quiet_night_seconds']:.1f}s, full run {night['full_run_seconds']:.1f}s; "
            f"identical to a full refresh: {night['identical_to_full_refresh']}"
        )
    for target in result["targets"]:
        value = target["value"]
        shown = f"{value:.0%}" if target["unit"] == "share" else f"{value:.2f}{target['unit']}"
        limit = target["limit"]
        limit_shown = f"{limit:.0%}" if target["unit"] == "share" else f"{limit}{target['unit']}"
        print(f"target {target['target']}: {shown} (≤ {limit_shown}) "
              f"{'met' if target['met'] else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
