"""`dbt build` for a night: seeds, every model and every data test, as of the run's date.

Incremental state: int_disruption_current_versions re-ranks only the disruptions that
gained a knowable version since its last build, and int_ocg_assessments_ranked only the
OCGs that gained a knowable assessment, which is exact while `as_of` only moves forward
and no batch stops counting; int_effect_at_anchor measures again only the OCGs whose
anchors or assessments changed or whose window closed; fct_disruption_claims rebuilds
only the disruptions that gained a version or have one in a batch whose standing changed,
and dim_ocg_assessment_history only the OCGs that gained an assessment or whose rows
carry a seed value that changed.
Each keeps the as_of and the batches it saw in a state table (INCREMENTAL_MODELS). So a
build runs `--full-refresh` when asked, or automatically when `as_of` is earlier than the
previous build's (a backfill; kept in `<dbt_target_dir>/last_build.json` and in the state
tables), a batch counted at the previous build no longer counts, or the previous build
did not finish (its dbt run may have updated an incremental table but not its state).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import date

from disruptions.config import Settings
from disruptions.engines import Engine, engine_for
from disruptions.errors import PipelineError
from disruptions.quality.model_tests import (
    alert_model_tests,
    read_node_results,
    record_model_tests,
)
from disruptions.transform.dbt import run_dbt
from disruptions.transform.reference import record_seeds_fingerprint
from disruptions.warehouse import BATCH_STATUS, open_warehouse, writer_lock

log = logging.getLogger(__name__)


LAST_BUILD_FILE = "last_build.json"


@dataclass(frozen=True)
class IncrementalModel:
    """An incremental model that keeps a build state; see _incremental_state_reason."""

    schema: str  # the model's schema; its state table is in schema intermediate
    model: str
    state: str
    # The batches that every batch of the state must still be among (a WHERE clause on
    # the batch-status model), as the model's own guard checks (macros/incremental_state).
    kept_batches: str = "is_counted_in_marts"
    kept_as: str = "counted"  # how a message names them


INCREMENTAL_MODELS = (
    IncrementalModel(
        "intermediate", "int_disruption_current_versions", "int_disruption_current_versions_state"
    ),
    IncrementalModel(
        "intermediate", "int_ocg_assessments_ranked", "int_ocg_assessments_ranked_state"
    ),
    IncrementalModel("intermediate", "int_effect_at_anchor", "int_effect_at_anchor_state"),
    IncrementalModel("marts", "dim_ocg_assessment_history", "int_ocg_assessment_history_state"),
    IncrementalModel(
        "marts",
        "fct_disruption_claims",
        "int_disruption_claims_state",
        kept_batches="status IN ('loaded', 'held')",
        kept_as="loaded or held",
    ),
)


def read_last_build(settings: Settings) -> dict:
    path = settings.dbt_target_dir / LAST_BUILD_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_last_build(settings: Settings, record: dict) -> None:
    path = settings.dbt_target_dir / LAST_BUILD_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=2), encoding="utf-8")
    os.replace(temporary, path)


def _incremental_state_reason(con, as_of: date, engine: Engine) -> str | None:
    """Why an incremental model (INCREMENTAL_MODELS) cannot be brought up to date incrementally.

    Its incremental run is exact only when as_of has not moved back and every batch of
    its state is still among its kept batches (see the models' headers). `con` is the
    engine's build-state connection, where dbt built the models.
    """
    status_schema, status_table = BATCH_STATUS.split(".")
    batch_status = f"{engine.schema(status_schema)}.{status_table}"
    intermediate = engine.schema("intermediate")
    tables = {
        (schema, name)
        for schema, name in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN (?, ?)",
            [intermediate, engine.schema("marts")],
        ).fetchall()
    }
    for incremental in INCREMENTAL_MODELS:
        model, state = incremental.model, f"{intermediate}.{incremental.state}"
        if (engine.schema(incremental.schema), model) not in tables:
            continue  # first build of this model: dbt builds it in full anyway
        if (intermediate, incremental.state) not in tables:
            return f"the previous build left no state for {model}"
        (previous_as_of,) = con.execute(f"SELECT max(as_of_date) FROM {state}").fetchone()
        if previous_as_of is not None and as_of < previous_as_of:
            return (
                f"as_of {as_of.isoformat()} is earlier than the previous build's "
                f"{previous_as_of} ({model})"
            )
        lost = [
            batch_id
            for (batch_id,) in con.execute(
                f"SELECT batch_id FROM {state} WHERE batch_id NOT IN "
                f"(SELECT batch_id FROM {batch_status} WHERE {incremental.kept_batches}) "
                "ORDER BY batch_id LIMIT 5"
            ).fetchall()
        ]
        if lost:
            return (
                f"batch(es) {', '.join(map(str, lost))} {incremental.kept_as} at the "
                f"previous build of {model} but not now"
            )
    return None


def full_refresh_reason(
    settings: Settings, as_of: date, requested: bool, con=None, engine: Engine | None = None
) -> str | None:
    """Why this build must rebuild the incremental models from scratch, or None."""
    if requested:
        return "requested"
    last_build = read_last_build(settings)
    unfinished = last_build.get("in_progress")
    if unfinished:
        # dbt may have updated an incremental table but not its state table.
        return f"the previous build (run {unfinished.get('run_id')}) did not finish"
    previous = last_build.get("as_of")
    if previous and as_of.isoformat() < previous:
        return f"as_of {as_of.isoformat()} is earlier than the previous build's {previous}"
    if con is None:
        return None
    return _incremental_state_reason(con, as_of, engine or engine_for(settings))


def write_run_context(con, run_id: str, as_of: date) -> None:
    """The run the next dbt command is for (audit.run_context, read by as_of_date()).

    A table rather than a dbt var: dbt re-parses the whole project when a var changes."""
    con.begin()
    try:
        con.execute("DELETE FROM audit.run_context")
        con.execute("INSERT INTO audit.run_context VALUES (?, ?)", [as_of, run_id])
        con.commit()
    except BaseException:
        con.rollback()
        raise


def _node_counts(settings: Settings) -> dict[str, int]:
    results_path = settings.dbt_target_dir / "run_results.json"
    counts: dict[str, int] = {}
    try:
        results = json.loads(results_path.read_text(encoding="utf-8")).get("results", [])
    except (OSError, ValueError):
        return counts
    for result in results:
        status = str(result.get("status"))
        counts[status] = counts.get(status, 0) + 1
    return counts


def _act_on_model_tests(settings: Settings, run_id: str, as_of: date) -> list:
    """Record every data test of the build and alert on failures; return the blocking ones."""
    results = read_node_results(settings.dbt_target_dir)
    with open_warehouse(settings) as con:
        record_model_tests(con, run_id, as_of, results)
        alert_model_tests(settings, con, run_id, as_of, results)
    return [result for result in results if result.blocks_publication]


def build_marts(settings: Settings, run_id: str, as_of: date, full_refresh: bool = False) -> dict:
    """Seed the reference tables, build every model and run every data test as of `as_of`.

    Unit tests are not part of the nightly build: they test the SQL, not the data, and
    run in CI (tests/dbt). Returns a summary; raises PipelineError (alert not yet raised)
    naming the failing nodes.
    """
    started = time.monotonic()
    with writer_lock(settings):
        # The batches, the ledger dbt reads and the run context, on the engine; on DuckDB
        # the sources must exist even on an empty warehouse. Closed before dbt opens it.
        engine = engine_for(settings)
        loaded = engine.load_validated_batches(run_id, as_of)
        with engine.build_state() as con:
            reason = full_refresh_reason(settings, as_of, full_refresh, con, engine)
        refresh_flag = ["--full-refresh"] if reason else []
        if reason:
            log.info("dbt full refresh: %s", reason)
        last_build = read_last_build(settings)
        first_build = not last_build.get("as_of")
        _write_last_build(
            settings,
            {
                "as_of": last_build.get("as_of"),
                "run_id": last_build.get("run_id"),
                "in_progress": {"as_of": as_of.isoformat(), "run_id": run_id},
            },
        )
        # One invocation: `dbt build` seeds the reference tables before anything reads
        # them, then runs every model and data test in DAG order. A separate `dbt seed`
        # would cost a second dbt start-up and parse for the same result.
        try:
            run_dbt(
                settings,
                "build",
                "--exclude-resource-type",
                "unit_test",
                *refresh_flag,
                progress_step="dbt_build",
            )
        except PipelineError as failure:
            blocking = _act_on_model_tests(settings, run_id, as_of)
            if not blocking:
                raise  # dbt itself failed (it could not start, say): nothing to name
            raise PipelineError(
                f"dbt build failed {len(blocking)} check(s), publishing blocked: "
                + "; ".join(result.describe() for result in blocking[:10]),
                alert_raised=True,
            ) from failure
        _act_on_model_tests(settings, run_id, as_of)
        record_seeds_fingerprint(settings)
        nodes = _node_counts(settings)
        _write_last_build(
            settings, {"as_of": as_of.isoformat(), "run_id": run_id, "full_refresh": bool(reason)}
        )
    return {
        "run_id": run_id,
        "as_of": as_of.isoformat(),
        "full_refresh": bool(reason),
        "full_refresh_reason": reason,
        "first_build": first_build,
        "nodes": nodes,
        "seconds": round(time.monotonic() - started, 1),
        **({"loaded_into_engine": loaded} if loaded else {}),
    }
