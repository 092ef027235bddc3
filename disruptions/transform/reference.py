"""The reference tables and the batch-status view, built by dbt before anything reads them.

Ingest checks codes against the reference tables, and every Python reader of which
batches count reads the batch-status view (staging.stg_load_batches): both are dbt's, so
both must exist before the first night's dbt build. `ensure_reference_tables` has dbt
build them (the seeds and that one view, with their tests) when the warehouse lacks them
or the seed files changed since dbt last loaded them, so an edited seed applies to the
very next load. On a night with unchanged seeds it costs one hash of a few small files.
"""

from __future__ import annotations

import hashlib
import logging
import os

import duckdb

from disruptions.config import SEEDS_DIR, Settings
from disruptions.engines.duckdb import DuckDBEngine
from disruptions.reference import SEEDS, has_reference_tables
from disruptions.transform.dbt import run_dbt
from disruptions.warehouse import open_warehouse, writer_lock

log = logging.getLogger(__name__)

SEEDS_FINGERPRINT_FILE = "seeds.sha256"
BATCH_STATUS_VIEW = ("staging", "stg_load_batches")


def seeds_fingerprint() -> str:
    digest = hashlib.sha256()
    for seed in SEEDS:
        digest.update(seed.encode())
        digest.update((SEEDS_DIR / f"{seed}.csv").read_bytes())
    return digest.hexdigest()


def record_seeds_fingerprint(settings: Settings) -> None:
    """Remember which seed files dbt loaded last (after a seed load or a build)."""
    path = settings.dbt_target_dir / SEEDS_FINGERPRINT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(seeds_fingerprint(), encoding="utf-8")
    os.replace(temporary, path)


def _loaded_fingerprint(settings: Settings) -> str | None:
    try:
        return (settings.dbt_target_dir / SEEDS_FINGERPRINT_FILE).read_text(encoding="utf-8")
    except OSError:
        return None


def _has_batch_status_view(con: duckdb.DuckDBPyConnection) -> bool:
    schema, name = BATCH_STATUS_VIEW
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


def ensure_reference_tables(settings: Settings) -> bool:
    """Have dbt build the reference tables and the batch-status view when they are missing
    or the seeds changed since dbt loaded them; return whether it had to."""
    with writer_lock(settings):
        with open_warehouse(settings) as con:
            present = has_reference_tables(con) and _has_batch_status_view(con)
        if present and _loaded_fingerprint(settings) == seeds_fingerprint():
            return False
        log.info("loading the reference seeds and the batch-status view with dbt")
        run_dbt(
            settings,
            "build",
            "--select",
            "resource_type:seed",
            "stg_load_batches",
            # Only the tests of these nodes alone, not those that also read models not
            # built yet (a mart's relationships to a seed, say).
            "--indirect-selection",
            "cautious",
            # An edited seed may have gained or lost a column, which only a rebuilt seed
            # table takes (the seeds are small; the view is only redefined).
            "--full-refresh",
            "--exclude-resource-type",
            "unit_test",
            # Ingest and validation read them in the working file, whatever the engine.
            engine=DuckDBEngine(settings),
        )
        record_seeds_fingerprint(settings)
        return True
