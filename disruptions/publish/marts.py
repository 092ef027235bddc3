"""Publication of the marts for readers: the national file and each ROCU's.

Readers (the query CLI, the report, BI tools) only ever open
`$DISRUPTIONS_HOME/published/disruptions.duckdb` (or a regional file under
published/regions/), read-only; each is written atomically (atomic.py). The national file
holds every mart, the public audit tables, the batch-status model and the reference
tables; a run that fails before publishing leaves every published file untouched.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import duckdb

from disruptions.config import Settings
from disruptions.errors import PipelineError
from disruptions.feeds import is_public_record_key
from disruptions.publish.atomic import (
    Copy,
    quote,
    remove_stale_tmp_files,
    write_published_files,
)
from disruptions.publish.incremental import (
    SYNCED_MART_KEYS,
    DigestSlice,
    attach_digests,
    build_digest,
    detach_digests,
)
from disruptions.publish.regions import (
    plan_regions,
    region_column,
    regional_files,
    with_digest_slices,
)
from disruptions.reference import SEEDS
from disruptions.warehouse import BATCH_STATUS, open_warehouse

log = logging.getLogger(__name__)

# The audit tables readers may see. raw.* never leaves the warehouse, and neither does
# audit.alert_deliveries (delivery errors can name mail servers and webhook hosts).
PUBLISHED_AUDIT_TABLES = (
    "load_batches",
    "quarantine",
    "batch_validations",
    "batch_decisions",
    "dbt_test_results",
    "dq_alerts",
    "pipeline_runs",
)
# The batch-status model, as published: readers see each batch's standing the way the
# models counted it.
PUBLISHED_BATCH_STATUS = "audit.batch_status"


def _warehouse_tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    rows = con.execute(
        """
        SELECT table_name FROM information_schema.tables
        WHERE table_catalog = current_database() AND table_schema = ?
        ORDER BY table_name
        """,
        [schema],
    ).fetchall()
    return [name for (name,) in rows]


def _public_record(con: duckdb.DuckDBPyConnection) -> tuple[str, dict[str, str]]:
    """SQL (and its parameters) for the quarantined `record` as it may be published: the
    feeds' own columns only (feeds.PUBLIC_RECORD_COLUMNS), so never the rationale and
    never a sender's extra free-text column.

    A JSON merge patch with a null value deletes that key. The keys are collected first
    and judged by feeds.normalise_column_name, the same test ingest used to read them,
    because the record keeps the sender's spelling ("Rationale", "\trationale").
    """
    keys = con.execute(
        """
        SELECT DISTINCT unnest(json_keys(record)) FROM audit.quarantine
        WHERE record IS NOT NULL AND json_type(record) = 'OBJECT'
        """
    ).fetchall()
    dropped = [key for (key,) in keys if not is_public_record_key(key)]
    if not dropped:
        return "record", {}
    patch = ", ".join(f"$dropped_{i}, NULL" for i in range(len(dropped)))
    sql = (
        "CASE WHEN record IS NOT NULL AND json_type(record) = 'OBJECT' "
        f"THEN json_merge_patch(record, json_object({patch})) ELSE record END"
    )
    return sql, {f"dropped_{i}": key for i, key in enumerate(dropped)}


def national_plan(con: duckdb.DuckDBPyConnection) -> list[Copy]:
    """Every mart, the public audit tables, the batch-status model and the seeds."""
    mart_tables = _warehouse_tables(con, "marts")
    if not mart_tables:
        raise PipelineError(
            "publish: the warehouse has no tables in schema marts (has dbt built them?)"
        )
    plan = [
        Copy(
            "marts",
            table,
            f"SELECT * FROM marts.{quote(table)}",
            key=SYNCED_MART_KEYS.get(table, ()),
        )
        for table in mart_tables
    ]
    plan += public_audit_plan(con)
    schema, table = PUBLISHED_BATCH_STATUS.split(".")
    plan.append(Copy(schema, table, f"SELECT * FROM {BATCH_STATUS}"))
    # Names, orders, labels and colours for readers (reference.read_reference).
    plan += [Copy("reference", seed, f"SELECT * FROM reference.{seed}") for seed in SEEDS]
    return plan


def public_audit_plan(con: duckdb.DuckDBPyConnection) -> list[Copy]:
    """The audit tables readers may see, from the working file's ledger (on every engine:
    it is the control plane's), the quarantined records cut to the feeds' own columns."""
    plan = []
    for table in PUBLISHED_AUDIT_TABLES:
        if table == "quarantine":
            record, parameters = _public_record(con)
            select = (
                "SELECT batch_id, source_file, line_number, "
                f"CAST({record} AS JSON) AS record, reasons FROM audit.quarantine"
            )
            plan.append(Copy("audit", table, select, parameters))
        else:
            plan.append(Copy("audit", table, f"SELECT * FROM audit.{table}"))
    return plan


def publish_marts(settings: Settings, run_id: str) -> Path:
    """Publish the national file and every ROCU's regional file, each atomically, several
    at once (settings.publish_workers); the national file is started first."""
    settings.published_dir.mkdir(parents=True, exist_ok=True)
    with open_warehouse(settings) as con:
        remove_stale_tmp_files(settings.published_dir)
        remove_stale_tmp_files(settings.regional_published_dir)
        # Every plan first: a mart with no regional rule stops publication before any
        # file changes, rather than after the national file has moved on.
        national = national_plan(con)
        regional = plan_regions(con)
        attach_digests(con)
        try:
            # With no live file yet, every file is a full copy: no rows to compare.
            if settings.published_path.exists():
                national, regional = _with_digests(con, national, regional)
            files = [(settings.published_path, national), *regional_files(settings, regional)]
            counts, *regions = write_published_files(
                con, files, run_id, workers=settings.publish_workers
            )
        finally:
            detach_digests(con)
    log.info(
        "published %s (%d marts) and %d regional files (run %s)",
        settings.published_path,
        sum(1 for name in counts if name.startswith("marts.")),
        len(regions),
        run_id,
    )
    return settings.published_path


def _with_digests(
    con: duckdb.DuckDBPyConnection, national: list[Copy], regional: dict[str, list[Copy]]
) -> tuple[list[Copy], dict[str, list[Copy]]]:
    """The plans, each big mart's copies reading the rows' hashes from one digest of it
    (incremental.build_digest) rather than each hashing the warehouse's rows again. Only a
    mart cut by region through its OCG has a digest: its region is a column of its rows
    (regions.region_column). The files of any other synced mart hash their own rows."""
    digests = {
        copy.table: build_digest(con, f"marts.{quote(copy.table)}", copy.key, region)
        for copy in national
        if copy.schema == "marts" and copy.key and (region := region_column(copy.table))
    }
    national = [
        dataclasses.replace(copy, digest=DigestSlice(digests[copy.table]))
        if copy.schema == "marts" and copy.table in digests
        else copy
        for copy in national
    ]
    return national, with_digest_slices(regional, digests)
