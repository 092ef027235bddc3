"""Run one pipeline phase in its own process, so the benchmark can time it and read its
peak memory (RSS) without the parent's own allocations getting in the way.

    python -m benchmarks.phase PHASE HOME AS_OF [LANDING]

Prints one JSON line: {"phase": ..., "seconds": ..., "detail": ...}.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path


def _floor_read(landing: str) -> str:
    """The physical floor for ingest and batch validation: DuckDB reading every row."""
    import duckdb

    con = duckdb.connect()
    rows = 0
    for pattern in ("disruptions*.csv", "ocg_assessments*.csv"):
        rows += con.execute(
            f"SELECT count(*) FROM read_csv('{landing}/**/{pattern}', all_varchar=true)"
        ).fetchone()[0]
    return f"{rows} rows read"


def _floor_storage(landing: str, home: str) -> str:
    """The storage floor for ingest: the same files copied as they are into a fresh
    DuckDB file (`CREATE TABLE AS SELECT * FROM read_csv(...)`), and the file closed."""
    import duckdb

    path = Path(home) / "floor-storage.duckdb"
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    rows = 0
    for table, pattern in (
        ("disruptions", "disruptions*.csv"),
        ("assessments", "ocg_assessments*.csv"),
    ):
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv('{landing}/**/{pattern}')")
        rows += con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    con.close()
    path.unlink()
    return f"{rows} rows stored"


def _floor_query(landing: str) -> str:
    """The floor for the whole run: one query that reads the same files and counts each
    OCG's impacts (with its latest threat score, so the assessments are read too)."""
    import duckdb

    con = duckdb.connect()
    groups = con.execute(
        f"""
        WITH counts AS (
            SELECT ocg_id,
                   count(*) FILTER (WHERE impact = 'major')    AS major_count,
                   count(*) FILTER (WHERE impact = 'moderate') AS moderate_count,
                   count(*) FILTER (WHERE impact = 'minor')    AS minor_count,
                   count(*) FILTER (WHERE impact = 'none')     AS none_count,
                   count(*) FILTER (WHERE impact = 'negative') AS negative_count
            FROM read_csv('{landing}/**/disruptions*.csv', all_varchar=true)
            WHERE status = 'approved'
            GROUP BY ocg_id
        ), latest AS (
            SELECT ocg_id, arg_max(threat_score, assessed_on) AS threat_score
            FROM read_csv('{landing}/**/ocg_assessments*.csv', all_varchar=true)
            GROUP BY ocg_id
        )
        SELECT count(*) FROM counts FULL JOIN latest USING (ocg_id)
        """
    ).fetchone()[0]
    return f"{groups} OCGs counted"


def run_phase(phase: str, home: str, as_of: date, landing: str | None) -> str:
    if phase == "floor_read":
        return _floor_read(landing or f"{home}/landing")
    if phase == "floor_query":
        return _floor_query(landing or f"{home}/landing")
    if phase == "floor_storage":
        return _floor_storage(landing or f"{home}/landing", home)

    from disruptions.config import load_settings

    settings = load_settings(home=home, landing=landing)
    if phase == "reference":
        # What a fresh home's first ingest has dbt build (the seeds, the batch-status
        # view): a one-off per home, timed apart so that ingest's ratio is its own.
        from disruptions.transform.reference import ensure_reference_tables

        return "built" if ensure_reference_tables(settings) else "already there"
    if phase == "ingest":
        from disruptions.ingest import ingest_landing

        summary = ingest_landing(settings, run_id="bench")
        return f"{len(summary.batches)} files"
    if phase == "validate_batches":
        from disruptions.quality.batches import validate_new_batches

        return str(validate_new_batches(settings, run_id="bench")).splitlines()[0]
    if phase in ("dbt_build", "dbt_build_full_refresh"):
        from disruptions.transform.build import build_marts

        build_marts(
            settings, run_id="bench", as_of=as_of, full_refresh=phase == "dbt_build_full_refresh"
        )
        return "built"
    if phase == "publish":
        from disruptions.publish.marts import publish_marts

        return str(publish_marts(settings, run_id="bench"))
    if phase == "report_and_docs":
        from disruptions.quality.load_docs import build_load_docs
        from disruptions.serve.report import write_report
        from disruptions.transform.docs import generate_dbt_docs

        write_report(settings)
        generate_dbt_docs(settings)
        build_load_docs(settings)
        return "written"
    if phase == "airflow_run":
        from disruptions.runner import run_nightly

        run_nightly(settings, as_of=as_of)
        return "dag run succeeded"
    raise SystemExit(f"unknown phase {phase!r}")


def main() -> None:
    phase, home, as_of = sys.argv[1], sys.argv[2], date.fromisoformat(sys.argv[3])
    landing = sys.argv[4] if len(sys.argv) > 4 else None
    started = time.perf_counter()
    detail = run_phase(phase, home, as_of, landing)
    seconds = time.perf_counter() - started
    print(json.dumps({"phase": phase, "seconds": seconds, "detail": detail}))


if __name__ == "__main__":
    main()
