"""Great Expectations on every new batch and every mart, and the Data Docs site.

The suites are reviewable JSON in expectations/ (one per feed, one per mart, one for the
marts' reconciliation); each expectation's meta says whether it is critical or a warning.

How it stays fast on big batches: GX's SQL datasource does not work on DuckDB, so DuckDB
does the reading and the derived flags (recorded_on, ocg_known, ...), selects only the
columns the suite reads (never rationale), and hands GX an Arrow-backed DataFrame with
low-cardinality columns as categoricals and dates as datetime64[ns] (the dtype GX's
between-checks vectorise). One suite runs as one validation, and one GX context serves
the whole step.

Batch validation: a critical failure holds the batch (status 'held') with one critical
alert; warnings give one warning alert. Data problems never raise.
Mart validation: a critical failure raises PipelineError(alert_raised=True), which fails
the run before publishing; warnings only alert.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import re
import statistics
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

import duckdb

from disruptions.alerts import raise_alert, scrub
from disruptions.config import EXPECTATIONS_DIR, PUBLIC_MARTS, SEEDS_DIR, Settings
from disruptions.errors import PipelineError, describe_unexpected
from disruptions.feeds import is_sensitive_column
from disruptions.logs import printable
from disruptions.warehouse import ENVIRONMENT_ERRORS, open_warehouse

logger = logging.getLogger("disruptions.validate")

FEED_SUITES = {"disruptions": "disruptions_batch", "ocg_assessments": "ocg_assessments_batch"}
MART_SUITES = PUBLIC_MARTS  # one suite per public mart, named after it
RECONCILIATION_SUITE = "marts_reconciliation"

# Batch volume: the band is built from the median of the sender's last VOLUME_HISTORY
# loaded batches of the same feed, once it has at least VOLUME_MIN_HISTORY of them.
VOLUME_HISTORY = 10
VOLUME_MIN_HISTORY = 3
VOLUME_WARNING_FACTOR = 5  # warning outside [median / 5, median * 5 + 10]
VOLUME_EXTREME_FACTOR = 50  # critical (held) above median * 50 + 1000

# Batches up to SMALL_BATCH_ROWS rows are validated together, up to GROUP_ROWS at once.
SMALL_BATCH_ROWS = 100_000
GROUP_ROWS = 1_000_000
MIN_GROUP_TO_SPLIT = 4  # a failing group this small is validated batch by batch
DUCKDB_MEMORY_LIMIT = "1GB"  # while batches are validated; DuckDB spills beyond it

SAMPLE_VALUES = 5  # sample values per failing expectation in an alert

# A plausible id: a short code without spaces. Checked in DuckDB (RE2, all cores) rather
# than by GX on 10M Python-side strings; the suites' descriptions quote it.
ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_./:-]{0,63}"

# Quarantined records take part too, as rows whose only value is `quarantined_record`
# ('line N: reasons'): ingest keeps a bad record out of raw, but a file that is mostly bad
# (a sender's impact column full of unknown codes, say) must still hold the batch rather
# than pass with the few rows that survived. Every other column is NULL on those rows,
# which GX's column checks skip.
QUARANTINED_RECORDS = """
        UNION ALL BY NAME
        SELECT q.batch_id,
               'line ' || coalesce(CAST(q.line_number AS VARCHAR), '?') || ': ' || q.reasons
                   AS quarantined_record
        FROM audit.quarantine AS q
        WHERE q.batch_id BETWEEN $first_batch AND $last_batch
          AND list_contains($batch_ids, q.batch_id)
"""

# What GX reads for each feed. The checks that need the high-cardinality ids are derived
# in DuckDB as sparse columns: NULL where the row is fine, the offending value otherwise,
# so GX's samples name the offending ids and the frame never holds 10M id strings.
# Categoricals are the low-cardinality enumerations. Never the rationale column.
FEED_FRAMES = {
    "disruptions": (
        f"""
        WITH batch AS NOT MATERIALIZED (
            SELECT batch_id, disruption_id, ocg_id, disruption_date, recorded_at, impact,
                   strand, tactic, lead_agency, force_area, status, operation, line_number
            FROM raw.disruptions
            WHERE batch_id BETWEEN $first_batch AND $last_batch
              AND list_contains($batch_ids, batch_id)
        ), candidate AS (
            -- Group 4-byte hashes, not 10M id strings (a fifth cheaper than 8-byte ones);
            -- the candidates, collisions included, are then checked exactly.
            SELECT CAST(hash(batch_id, disruption_id, recorded_at) >> 32 AS UINTEGER)
                       AS version_hash
            FROM batch GROUP BY 1 HAVING count(*) > 1
        ), repeated AS (
            SELECT batch_id, disruption_id, recorded_at FROM batch
            WHERE CAST(hash(batch_id, disruption_id, recorded_at) >> 32 AS UINTEGER)
                  IN (SELECT version_hash FROM candidate)
            GROUP BY ALL HAVING count(*) > 1
        ), known AS (
            SELECT DISTINCT a.ocg_id
            FROM raw.ocg_assessments AS a
            JOIN audit.load_batches AS b ON b.batch_id = a.batch_id
            WHERE b.status = 'loaded'
        ), conflicts AS (
            -- The same claim version (id and recorded_at) already counted from another
            -- file with other values: the later file silently wins, so say so.
            SELECT batch.batch_id, batch.disruption_id, batch.recorded_at,
                   min(other.source_file || ' line ' || other.line_number) AS other_line
            FROM batch
            JOIN raw.disruptions AS other
              ON other.disruption_id = batch.disruption_id
             AND other.recorded_at = batch.recorded_at
             AND other.batch_id <> batch.batch_id
            JOIN audit.load_batches AS other_batch
              ON other_batch.batch_id = other.batch_id AND other_batch.status = 'loaded'
            WHERE (other.ocg_id, other.disruption_date, other.impact, other.strand,
                   other.tactic, other.lead_agency, other.force_area, other.status,
                   other.operation)
                  IS DISTINCT FROM
                  (batch.ocg_id, batch.disruption_date, batch.impact, batch.strand,
                   batch.tactic, batch.lead_agency, batch.force_area, batch.status,
                   batch.operation)
            GROUP BY ALL
        )
        SELECT batch.batch_id,
               CAST(batch.disruption_date AS TIMESTAMP_NS) AS disruption_date,
               CAST(batch.recorded_at AS TIMESTAMP_NS) AS recorded_at,
               CAST(CAST(batch.recorded_at AS DATE) AS TIMESTAMP_NS) AS recorded_on,
               batch.impact, batch.strand, batch.tactic, batch.lead_agency,
               batch.force_area, batch.status,
               CASE WHEN batch.disruption_id IS NULL OR batch.ocg_id IS NULL
                    THEN 'line ' || batch.line_number END AS missing_id,
               CASE WHEN repeated.disruption_id IS NOT NULL
                    THEN batch.disruption_id || ' recorded '
                         || strftime(batch.recorded_at, '%Y-%m-%dT%H:%M:%S')
               END AS repeated_version,
               CASE WHEN NOT regexp_full_match(batch.disruption_id, '{ID_PATTERN}')
                    THEN batch.disruption_id END AS malformed_disruption_id,
               CASE WHEN NOT regexp_full_match(batch.ocg_id, '{ID_PATTERN}')
                    THEN batch.ocg_id END AS malformed_ocg_id,
               CASE WHEN known.ocg_id IS NULL THEN batch.ocg_id END AS unknown_ocg_id,
               CASE WHEN conflicts.other_line IS NOT NULL
                    THEN batch.disruption_id || ' recorded '
                         || strftime(batch.recorded_at, '%Y-%m-%dT%H:%M:%S')
                         || ': other values in ' || conflicts.other_line
               END AS conflicting_version
        FROM batch
        LEFT JOIN repeated
               ON repeated.batch_id = batch.batch_id
              AND repeated.disruption_id = batch.disruption_id
              AND repeated.recorded_at = batch.recorded_at
        LEFT JOIN known ON known.ocg_id = batch.ocg_id
        LEFT JOIN conflicts
               ON conflicts.batch_id = batch.batch_id
              AND conflicts.disruption_id = batch.disruption_id
              AND conflicts.recorded_at = batch.recorded_at
        """
        + QUARANTINED_RECORDS,
        ("impact", "strand", "tactic", "lead_agency", "force_area", "status"),
        "raw.disruptions",
    ),
    "ocg_assessments": (
        f"""
        WITH batch AS NOT MATERIALIZED (
            SELECT batch_id, ocg_id, assessed_on, threat_score, band, status, archive_reason,
                   lead_force, member_count, line_number
            FROM raw.ocg_assessments
            WHERE batch_id BETWEEN $first_batch AND $last_batch
              AND list_contains($batch_ids, batch_id)
        ), repeated AS (
            SELECT batch_id, ocg_id, assessed_on FROM batch GROUP BY ALL HAVING count(*) > 1
        )
        SELECT batch.batch_id, CAST(batch.assessed_on AS TIMESTAMP_NS) AS assessed_on,
               batch.threat_score, batch.band, batch.status, batch.archive_reason,
               batch.lead_force, batch.member_count,
               CASE WHEN batch.ocg_id IS NULL OR batch.assessed_on IS NULL
                    THEN 'line ' || batch.line_number END AS missing_id,
               CASE WHEN repeated.ocg_id IS NOT NULL
                    THEN batch.ocg_id || ' assessed ' || CAST(batch.assessed_on AS VARCHAR)
               END AS repeated_assessment,
               CASE WHEN NOT regexp_full_match(batch.ocg_id, '{ID_PATTERN}')
                    THEN batch.ocg_id END AS malformed_ocg_id,
               (batch.status <> 'archived' OR batch.archive_reason IS NOT NULL)
                   AS archive_reason_given
        FROM batch
        LEFT JOIN repeated
               ON repeated.batch_id = batch.batch_id AND repeated.ocg_id = batch.ocg_id
              AND repeated.assessed_on = batch.assessed_on
        """
        + QUARANTINED_RECORDS,
        ("band", "status", "archive_reason", "lead_force"),
        "raw.ocg_assessments",
    ),
}


# --- results ----------------------------------------------------------------------------


@dataclass
class ExpectationFailure:
    expectation: str
    severity: str
    why: str
    column: str | None
    failing_rows: int | None
    failing_percent: float | None
    observed_value: Any
    samples: list
    error: str | None = None

    def describe(self) -> str:
        where = f" on {self.column}" if self.column else ""
        if self.error:
            return f"{self.expectation}{where}: could not be evaluated ({self.error})"
        text = f"{self.expectation}{where}"
        if self.failing_rows is not None:
            percent = f" ({self.failing_percent:.2f}%)" if self.failing_percent is not None else ""
            text += f": {self.failing_rows} failing rows{percent}"
        elif self.observed_value is not None:
            text += f": observed {printable(self.observed_value, 200)}"
        if self.samples:
            text += f"; e.g. {', '.join(printable(value, 80) for value in self.samples)}"
        return text

    def as_dict(self) -> dict:
        return scrub(
            {
                "expectation": self.expectation,
                "severity": self.severity,
                "column": self.column,
                "failing_rows": self.failing_rows,
                "failing_percent": self.failing_percent,
                "observed_value": self.observed_value,
                "samples": self.samples,
                "why": self.why,
                "error": self.error,
            }
        )


@dataclass
class SuiteOutcome:
    suite_name: str
    rows: int
    evaluated: int
    failures: list[ExpectationFailure]
    seconds: float
    # Every expectation's result, passed or not, in suite order, as stored for the load
    # validation pages (load_docs.py).
    results: list[dict] = field(default_factory=list)

    @property
    def critical(self) -> list[ExpectationFailure]:
        return [f for f in self.failures if f.severity == "critical"]

    @property
    def warnings(self) -> list[ExpectationFailure]:
        return [f for f in self.failures if f.severity != "critical"]


@dataclass
class BatchOutcome:
    batch_id: int
    feed: str
    source_file: str
    outcome: SuiteOutcome
    held: bool
    alert_id: int | None


@dataclass
class BatchValidationSummary:
    batches: list[BatchOutcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def held(self) -> list[BatchOutcome]:
        return [b for b in self.batches if b.held]

    @property
    def with_warnings(self) -> list[BatchOutcome]:
        return [b for b in self.batches if b.outcome.warnings]

    def __str__(self) -> str:
        lines = [
            f"validated {len(self.batches)} batches in {self.seconds:.1f}s: "
            f"{len(self.held)} held, {len(self.with_warnings)} with warnings"
        ]
        for batch in self.batches:
            if batch.outcome.failures:
                state = "HELD" if batch.held else "warnings"
                lines.append(
                    f"  batch {batch.batch_id} ({batch.feed}, {printable(batch.source_file)}): "
                    f"{state}: " + "; ".join(f.describe() for f in batch.outcome.failures)
                )
        return "\n".join(lines)


@dataclass
class MartValidationSummary:
    outcomes: list[SuiteOutcome] = field(default_factory=list)
    seconds: float = 0.0
    alert_ids: list[int] = field(default_factory=list)

    @property
    def critical_failures(self) -> list[tuple[str, ExpectationFailure]]:
        return [(o.suite_name, f) for o in self.outcomes for f in o.critical]

    @property
    def warning_failures(self) -> list[tuple[str, ExpectationFailure]]:
        return [(o.suite_name, f) for o in self.outcomes for f in o.warnings]

    @property
    def success(self) -> bool:
        return not self.critical_failures

    def __str__(self) -> str:
        lines = [
            f"validated {len(self.outcomes)} mart suites in {self.seconds:.1f}s: "
            f"{len(self.critical_failures)} critical failures, "
            f"{len(self.warning_failures)} warnings"
        ]
        lines += [f"  {suite}: {f.describe()}" for suite, f in self.critical_failures]
        lines += [f"  {suite} (warning): {f.describe()}" for suite, f in self.warning_failures]
        return "\n".join(lines)


# --- suites and the GX context ----------------------------------------------------------


def load_suite_definition(name: str) -> dict:
    path = EXPECTATIONS_DIR / f"{name}.json"
    definition = json.loads(path.read_text(encoding="utf-8"))
    for expectation in definition["expectations"]:
        severity = expectation.get("meta", {}).get("severity")
        if severity not in ("critical", "warning"):
            raise ValueError(f"{path}: {expectation['type']} has no meta.severity critical|warning")
    return definition


def _import_gx() -> None:
    _configure_gx_environment()
    import great_expectations  # noqa: F401


def _configure_gx_environment() -> None:
    # No phoning home from a police data pipeline, and no progress bars in the logs.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def _skip_dataframe_fingerprint() -> None:
    """GX's pandas engine hashes every DataFrame under 1 GB into an md5 "batch marker"
    (pandas_data_fingerprint) before validating it. Nothing in the validation uses that
    marker, and on a 10M-row batch the hash costs more than all expectations together, so
    it is switched off by setting the engine's size threshold to zero."""
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0


class SuiteRunner:
    """One GX file context for a whole step; one validation definition per suite."""

    def __init__(self, settings: Settings) -> None:
        _configure_gx_environment()
        import great_expectations as gx

        _skip_dataframe_fingerprint()
        self._gx = gx
        self.settings = settings
        # Ephemeral: suites live in expectations/, results in audit.batch_validations,
        # and the pages stewards read are load_docs.py's, so GX keeps no files of its own.
        self.context = gx.get_context(mode="ephemeral")
        self._configure_context()
        datasource = self.context.data_sources.add_or_update_pandas("disruptions_frames")
        try:
            asset = datasource.get_asset("frames")
        except LookupError:
            asset = datasource.add_dataframe_asset("frames")
        try:
            self.batch_definition = asset.get_batch_definition("whole_frame")
        except (KeyError, LookupError):
            self.batch_definition = asset.add_batch_definition_whole_dataframe("whole_frame")
        self._definitions: dict[str, Any] = {}
        self._suite_json: dict[str, dict] = {}

    def _configure_context(self) -> None:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        # Progress bars would fill the logs; nothing is saved (the context is ephemeral).
        self.context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )

    def definition(self, suite_name: str):
        if suite_name not in self._definitions:
            gx = self._gx
            raw = load_suite_definition(suite_name)
            suite = gx.ExpectationSuite(
                name=suite_name,
                expectations=raw["expectations"],
                meta=raw.get("meta"),
            )
            # ExpectationSuite drops an invalid expectation with only a log line: refuse.
            if len(suite.expectations) != len(raw["expectations"]):
                raise ValueError(
                    f"{EXPECTATIONS_DIR / (suite_name + '.json')}: "
                    f"{len(raw['expectations']) - len(suite.expectations)} expectation(s) "
                    "are not valid GX 1.x configurations"
                )
            suite = self.context.suites.add_or_update(suite)
            self._definitions[suite_name] = self.context.validation_definitions.add_or_update(
                gx.ValidationDefinition(
                    name=f"{suite_name}__frames", data=self.batch_definition, suite=suite
                )
            )
            self._suite_json[suite_name] = raw
        return self._definitions[suite_name]

    def run(self, suite_name: str, frame, parameters: dict) -> SuiteOutcome:
        started = time.perf_counter()
        definition = self.definition(suite_name)
        result = definition.run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=parameters,
            # BASIC has what an alert needs (failing-row count, a few unexpected values,
            # observed values) and costs about a third less per batch than SUMMARY.
            result_format={"result_format": "BASIC", "partial_unexpected_count": SAMPLE_VALUES},
        )
        failures = [_failure(item) for item in result.results if not item.success]
        results = [
            {**_failure(item).as_dict(), "success": bool(item.success)} for item in result.results
        ]
        self._drop_cached_batches(definition)
        return SuiteOutcome(
            suite_name=suite_name,
            rows=len(frame),
            evaluated=len(result.results),
            failures=failures,
            seconds=time.perf_counter() - started,
            results=results,
        )

    def _drop_cached_batches(self, definition) -> None:
        """Let go of the frame just validated. GX's execution engine caches every batch it
        has loaded, and GX's project manager keeps the context (and so the engine) alive
        for the whole process: without this, the last frame of a step (1 GB at 10M rows)
        stays in memory through the rest of the embedded Airflow run, and each frame
        stays while the next one is built."""
        datasources = [definition.data.data_asset.datasource]
        datasources += list(self.context.data_sources.all().values())
        for datasource in datasources:
            engine = getattr(datasource, "_execution_engine", None)
            manager = getattr(engine, "batch_manager", None)
            if manager is not None:
                manager.reset_batch_cache()
                manager.batch_data_cache.clear()


def _column_of(kwargs: dict) -> str | None:
    if kwargs.get("column"):
        return str(kwargs["column"])
    if kwargs.get("column_list"):
        return ", ".join(kwargs["column_list"])
    if kwargs.get("column_A"):
        return f"{kwargs['column_A']}, {kwargs['column_B']}"
    return None


def _failure(item) -> ExpectationFailure:
    config = item.expectation_config
    meta = config.meta or {}
    result = item.result or {}
    error = None
    info = item.exception_info or {}
    if info.get("raised_exception"):
        error = info.get("exception_message")
    else:  # GX nests exceptions per metric
        for value in info.values():
            if isinstance(value, dict) and value.get("raised_exception"):
                error = value.get("exception_message")
                break
    samples = [
        _sample(value)
        for value in (result.get("partial_unexpected_list") or [])[:SAMPLE_VALUES]
        if not (isinstance(value, dict) and any(map(is_sensitive_column, value)))
    ]
    failing_rows = result.get("unexpected_count")
    percent = result.get("unexpected_percent")
    return ExpectationFailure(
        expectation=config.type,
        # An expectation that cannot even be evaluated is a broken check: never let it pass
        # as a warning.
        severity="critical" if error else meta.get("severity", "critical"),
        why=meta.get("why", ""),
        column=_column_of(config.kwargs),
        failing_rows=int(failing_rows) if failing_rows is not None else None,
        failing_percent=round(float(percent), 4) if percent is not None else None,
        observed_value=_sample(result.get("observed_value")),
        samples=samples,
        error=error[:300] if error else None,
    )


def _sample(value: Any) -> Any:
    """A short, JSON-friendly rendering of one failing value (or pair, or row key)."""
    if isinstance(value, dict):
        return {k: _sample(v) for k, v in value.items() if not is_sensitive_column(k)}
    if isinstance(value, list | tuple):
        return [_sample(v) for v in value[:SAMPLE_VALUES]]
    if hasattr(value, "item") and not hasattr(value, "isoformat"):  # numpy scalars
        if type(value).__name__ == "datetime64":
            import pandas as pd

            value = pd.Timestamp(value)
        else:
            value = value.item()
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- frames -----------------------------------------------------------------------------


def query_frame(
    con: duckdb.DuckDBPyConnection, sql: str, params=None, *, codes: tuple[str, ...] = ()
):
    """Run SQL in DuckDB and hand the result to pandas through Arrow, with dates as
    datetime64[ns] (the dtype GX's between-checks vectorise) and every text column as a
    categorical.

    Text travels as categoricals because that is what keeps a frame small: the
    enumerations have a handful of values, and the derived sparse columns (NULL where a
    row is fine) cost one byte a row as codes instead of eight as string offsets. GX
    reads a categorical like the strings it stands for (isin, isnull, duplicated, and
    the unexpected values it samples). `codes` names integer columns the caller turns
    into categoricals itself; they keep their small integer type.
    """
    import pyarrow as pa

    # DuckDB converts the result to Arrow on all its threads, with no copy of its own.
    table = con.sql(sql, params=params).to_arrow_table()
    names = table.column_names
    text = {}
    for index, arrow_field in enumerate(table.schema):
        if pa.types.is_decimal(arrow_field.type):  # sums come back as HUGEINT/DECIMAL
            table = table.set_column(
                index, arrow_field.name, table.column(index).cast(pa.float64())
            )
        elif pa.types.is_string(arrow_field.type) or pa.types.is_large_string(arrow_field.type):
            text[arrow_field.name] = _categorical(table.column(index))
    table = table.drop_columns(list(text))
    frame = table.to_pandas(date_as_object=False, split_blocks=True, self_destruct=True)
    del table
    for name, values in text.items():
        frame[name] = values
    return _gx_friendly_dtypes(frame[names], keep=codes)


def _categorical(column):
    """A text column as a pandas categorical. Built from Arrow's dictionary encoding by
    hand: pyarrow's own conversion of a dictionary column takes ~2 s per 10M rows."""
    import numpy as np
    import pandas as pd
    import pyarrow.compute as pc

    encoded = column.dictionary_encode().combine_chunks()
    categories = pd.Index(encoded.dictionary.to_numpy(zero_copy_only=False), dtype="str")
    codes = pc.fill_null(encoded.indices, -1).to_numpy()
    smallest = np.int8 if len(categories) < 127 else np.int16 if len(categories) < 32767 else None
    return pd.Categorical.from_codes(
        codes.astype(smallest) if smallest else codes, categories=categories
    )


def query_batch_frame(con: duckdb.DuckDBPyConnection, feed: str, batch_ids: int | list[int]):
    """The frame a feed suite validates, built so a 10M-row batch stays small and fast.

    The enumerations never travel as strings: one pass collects each one's distinct
    values in the batch, the main query sends small integer codes into that list, and
    pandas rebuilds them as categoricals (exactly the batch's values, unexpected ones
    included, so GX's in-set checks and samples are unchanged).
    """
    import pandas as pd

    sql, categorical, source = FEED_FRAMES[feed]
    distinct = ", ".join(
        f"list(DISTINCT {column}) FILTER (WHERE {column} IS NOT NULL)" for column in categorical
    )
    batch_ids = [batch_ids] if isinstance(batch_ids, int) else sorted(batch_ids)
    # BETWEEN lets DuckDB skip row groups by their min/max; list_contains is exact.
    selection = {"first_batch": batch_ids[0], "last_batch": batch_ids[-1], "batch_ids": batch_ids}
    values = con.sql(
        f"SELECT {distinct} FROM {source} WHERE batch_id BETWEEN $first_batch AND $last_batch "
        "AND list_contains($batch_ids, batch_id)",
        params=selection,
    ).fetchall()[0]
    categories = {
        column: sorted(found or []) for column, found in zip(categorical, values, strict=True)
    }
    codes = ", ".join(
        f"CAST(coalesce(list_position(${column}_values, {column}), 0) - 1 AS SMALLINT) AS {column}"
        for column in categorical
    )
    parameters = dict(selection)
    parameters.update({f"{column}_values": categories[column] for column in categorical})
    frame = query_frame(
        con, f"SELECT * REPLACE ({codes}) FROM ({sql})", parameters, codes=categorical
    )
    for column in categorical:
        frame[column] = pd.Categorical.from_codes(
            frame[column].to_numpy(), categories=categories[column]
        )
    return frame


def _gx_friendly_dtypes(frame, keep: tuple[str, ...] = ()):
    for name, dtype in frame.dtypes.items():
        kind = getattr(dtype, "kind", None)
        if name in keep:
            continue
        if kind == "M" and str(dtype) != "datetime64[ns]":
            frame[name] = frame[name].astype("datetime64[ns]")
        elif kind in ("i", "u") and str(dtype) != "int64":
            frame[name] = frame[name].astype("int64")
        elif kind == "f" and str(dtype) != "float64":
            frame[name] = frame[name].astype("float64")
    return frame


def _read_seed(name: str, column: str) -> list[str]:
    with open(SEEDS_DIR / name, newline="", encoding="utf-8-sig") as handle:
        return [row[column].strip() for row in csv.DictReader(handle) if row[column].strip()]


def seed_parameters() -> dict:
    forces = _read_seed("forces.csv", "force_code")
    rocus = _read_seed("rocus.csv", "rocu_code")
    partners = _read_seed("partner_agencies.csv", "agency_code")
    return {
        "impact_levels": _read_seed("impact_levels.csv", "impact"),
        "tactics": _read_seed("tactics.csv", "tactic"),
        "forces": forces,
        "rocus": rocus,
        "lead_agencies": sorted(set(forces) | set(rocus) | set(partners)),
        "bands": _read_seed("ocg_bands.csv", "band"),
        "force_count": len(forces),
    }


def impact_weights() -> dict[str, float]:
    with open(SEEDS_DIR / "impact_levels.csv", newline="", encoding="utf-8-sig") as handle:
        return {row["impact"].strip(): float(row["weight"]) for row in csv.DictReader(handle)}


# --- batches ----------------------------------------------------------------------------

_DATE_IN_NAME = re.compile(
    r"(?<!\d)(\d{4}[-_]?\d{2}[-_]?\d{2})([T_-]?\d{2}[-:]?\d{2}([-:]?\d{2})?)?(?!\d)"
)


def sender_of(source_file: str) -> str:
    """Who sent a file: the first folder under landing, or for a file at the top level its
    name without extensions and dates (disruptions_2026-01-05.csv -> disruptions)."""
    parts = PurePosixPath(source_file.replace("\\", "/")).parts
    if len(parts) > 1:
        return parts[0]
    stem = parts[0].split(".")[0] if parts else source_file
    cleaned = re.sub(r"[-_.\s]+", "_", _DATE_IN_NAME.sub("", stem)).strip("_")
    return cleaned or stem


def volume_bounds(history: list[int]) -> dict:
    """Suite parameters for the row-count checks, from the sender's recent batch sizes."""
    if len(history) < VOLUME_MIN_HISTORY:
        return {"volume_min": 0, "volume_max": None, "volume_extreme_max": None}
    median = statistics.median(history)
    return {
        "volume_min": math.floor(median / VOLUME_WARNING_FACTOR),
        "volume_max": math.ceil(median * VOLUME_WARNING_FACTOR) + 10,
        "volume_extreme_max": math.ceil(median * VOLUME_EXTREME_FACTOR) + 1000,
    }


def _pending_batches(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str, int]]:
    # A released batch was validated when it was held; never validate (and hold) it again.
    return con.execute(
        """
        SELECT b.batch_id, b.feed, b.source_file, coalesce(b.rows_loaded, 0)
        FROM audit.load_batches AS b
        WHERE b.status = 'loaded'
          AND b.feed IN ('disruptions', 'ocg_assessments')
          AND NOT EXISTS (SELECT 1 FROM audit.batch_validations AS v
                          WHERE v.batch_id = b.batch_id)
          AND NOT EXISTS (SELECT 1 FROM audit.batch_decisions AS d
                          WHERE d.batch_id = b.batch_id AND d.decision = 'released')
        ORDER BY b.batch_id
        """
    ).fetchall()


def plan_batch_groups(pending: list[tuple[int, str, str, int]]) -> list[list[tuple]]:
    """Groups of batches to validate together: assessments first (a held assessment file
    then already counts as unknown OCGs for the disruptions), each feed in load order;
    small batches share a group up to GROUP_ROWS rows, a big batch is on its own."""
    groups: list[list[tuple]] = []
    for feed in ("ocg_assessments", "disruptions"):
        current: list[tuple] = []
        current_rows = 0
        for batch in (b for b in pending if b[1] == feed):
            rows = batch[3]
            if rows > SMALL_BATCH_ROWS:
                groups.append([batch])
                continue
            if current and current_rows + rows > GROUP_ROWS:
                groups.append(current)
                current, current_rows = [], 0
            current.append(batch)
            current_rows += rows
        if current:
            groups.append(current)
    return groups


def _combinable(suite: dict) -> bool:
    """Whether a passing validation of many batches at once proves each one passes: true
    when every expectation is row-level without `mostly`, except the ones the per-batch
    check below re-applies to each batch (row counts, and null-checks with `mostly`)."""
    for expectation in suite["expectations"]:
        kind, kwargs = expectation["type"], expectation["kwargs"]
        if kind.startswith("expect_table_") and kind not in (
            "expect_table_columns_to_match_set",
            "expect_table_row_count_to_be_between",
        ):
            return False
        if "mostly" in kwargs and kind != "expect_column_values_to_be_null":
            return False
    return True


def _passes_alone(suite: dict, rows: int, null_shares: dict[str, float], bounds: dict) -> bool:
    """The per-batch part of a suite, for a batch whose rows already passed together with
    others: its row-count expectations and its mostly-null expectations. False sends the
    batch to a validation of its own, where GX gives the verdict."""
    for expectation in suite["expectations"]:
        kind, kwargs = expectation["type"], expectation["kwargs"]
        if kind == "expect_table_row_count_to_be_between":
            low, high = (_parameter(kwargs.get(k), bounds) for k in ("min_value", "max_value"))
            if (low is not None and rows < low) or (high is not None and rows > high):
                return False
        elif "mostly" in kwargs and null_shares.get(kwargs["column"], 0.0) < kwargs["mostly"]:
            return False
    return True


def _parameter(value, parameters: dict):
    if isinstance(value, dict) and "$PARAMETER" in value:
        return parameters.get(value["$PARAMETER"])
    return value


def _loaded_history(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list]:
    """Loaded batch sizes by (feed, sender), in load order."""
    history: dict[tuple[str, str], list] = {}
    for batch_id, feed, source_file, rows_loaded in con.execute(
        """
        SELECT batch_id, feed, source_file, coalesce(rows_loaded, 0)
        FROM audit.load_batches
        WHERE status = 'loaded' AND feed IS NOT NULL
        ORDER BY batch_id
        """
    ).fetchall():
        history.setdefault((feed, sender_of(source_file)), []).append((batch_id, rows_loaded))
    return history


def _run_parameters(today: date) -> dict:
    now = datetime.now(UTC).replace(tzinfo=None)
    return {
        # Date bounds go to GX as ISO datetimes: a plain date would not compare with the
        # datetime64 columns GX vectorises.
        "max_date": f"{(today + timedelta(days=1)).isoformat()}T00:00:00",
        "max_recorded_at": (now + timedelta(days=1)).isoformat(timespec="seconds"),
    }


def validate_new_batches(settings: Settings, run_id: str) -> BatchValidationSummary:
    """Run each feed's suite on every loaded batch not validated yet; hold critical ones.

    GX's cost is mostly a fixed ~10 ms per expectation per validation, so a night of a
    hundred small files would spend its time there. Small batches of one feed are
    therefore validated together first (the frame carries batch_id; repeated versions
    are found within each batch). If that validation passes, each batch's own row-count
    and mostly-checks are applied to it, and a batch passing those is recorded as
    validated. Any failure, and any batch that is not clearly fine, gets a validation of
    its own, so every hold, warning and alert comes from GX on exactly that batch.
    """
    started = time.perf_counter()
    summary = BatchValidationSummary()
    with open_warehouse(settings) as con:
        pending = _pending_batches(con)
        if not pending:
            summary.seconds = time.perf_counter() - started
            return summary
        # Importing GX takes seconds of pure Python; DuckDB builds the first frame on its
        # own threads meanwhile.
        gx_import = threading.Thread(target=_import_gx, name="import-gx", daemon=True)
        gx_import.start()
        # DuckDB would otherwise keep up to 80% of RAM for the frame query's hash tables
        # and cached blocks, on top of the pandas frame GX reads: cap it for this step.
        con.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        step = _BatchStep(settings, con, run_id, summary, gx_import)
        try:
            groups = plan_batch_groups(pending)
            for index, group in enumerate(groups):
                step.expect_next(groups[index + 1] if index + 1 < len(groups) else None)
                for batch in step.validate_together(group):
                    step.validate_alone(batch)
        finally:
            step.close()
            con.execute("SET memory_limit = ?", [settings.duckdb_memory_limit])
    release_memory()
    summary.seconds = time.perf_counter() - started
    logger.info("%s", str(summary).splitlines()[0])
    return summary


def _assessments_token(con: duckdb.DuckDBPyConnection) -> list[int] | None:
    """The loaded batches a disruptions frame's unknown_ocg_id is judged against."""
    return con.execute(
        "SELECT list(batch_id ORDER BY batch_id) FROM audit.load_batches "
        "WHERE status = 'loaded' AND coalesce(feed, '') <> 'disruptions'"
    ).fetchall()[0][0]


def release_memory() -> None:
    """Hand memory freed by the step back to the OS. The embedded Airflow run executes
    every task in one process: without this, the frames' freed heap (glibc's arenas,
    Arrow's pool) stays in the process for the next task and adds to its peak."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


class _BatchStep:
    """State shared by the batches of one validation step."""

    def __init__(self, settings, con, run_id, summary, gx_import) -> None:
        self.settings, self.con, self.run_id, self.summary = settings, con, run_id, summary
        self.gx_import = gx_import
        self.runner: SuiteRunner | None = None
        # The next group's frame is built on a second DuckDB connection (DuckDB works on
        # its own threads, without the GIL) while GX imports or validates this one.
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-frame")
        self.next_group: list[tuple] | None = None
        self.ahead: dict[tuple, Future] = {}
        self.history = _loaded_history(con)
        self.base_parameters = {
            **seed_parameters(),
            **_run_parameters(datetime.now(UTC).date()),
            "plausible_max_threat_score": settings.plausible_max_threat_score,
            "plausible_max_member_count": settings.plausible_max_member_count,
        }

    def _runner(self) -> SuiteRunner:
        if self.runner is None:
            self.gx_import.join()
            self.runner = SuiteRunner(self.settings)
        return self.runner

    def expect_next(self, group: list[tuple] | None) -> None:
        """Name the group validated after the current one; its frame is built as soon as
        the current one's frame is in hand."""
        self.next_group = group

    def frame(self, feed: str, batch_ids: list[int]):
        """The frame of these batches: built ahead if it was, else now. Then the frame of
        the next group starts building in the background."""
        key = (feed, tuple(sorted(batch_ids)))
        future = self.ahead.pop(key, None)
        frame = None
        if future is not None:
            frame, token = future.result()
            # Unknown OCGs are judged against the loaded assessments: if one was held
            # since this frame was built, the frame is stale and is built again.
            if token != _assessments_token(self.con):
                del frame
                frame = None
        if frame is None:
            frame = query_batch_frame(self.con, feed, list(batch_ids))
        if self.next_group is not None:
            upcoming = self.next_group
            self.next_group = None
            next_key = (upcoming[0][1], tuple(sorted(b[0] for b in upcoming)))
            if next_key != key and next_key not in self.ahead:
                self.ahead[next_key] = self.pool.submit(self._build_ahead, *next_key)
        return frame

    def _build_ahead(self, feed: str, batch_ids: tuple[int, ...]):
        cursor = self.con.cursor()
        try:
            cursor.execute("BEGIN TRANSACTION")  # the token and the frame see one snapshot
            token = _assessments_token(cursor)
            frame = query_batch_frame(cursor, feed, list(batch_ids))
            cursor.execute("COMMIT")
            return frame, token
        finally:
            cursor.close()

    def close(self) -> None:
        for future in self.ahead.values():
            future.cancel()
        self.pool.shutdown(wait=True)
        self.ahead.clear()

    def _bounds(self, batch_id: int, feed: str, source_file: str) -> dict:
        sizes = [
            rows
            for earlier_id, rows in self.history.get((feed, sender_of(source_file)), [])
            if earlier_id < batch_id
        ][-VOLUME_HISTORY:]
        return volume_bounds(sizes)

    def validate_together(self, group: list[tuple]) -> list[tuple]:
        """Validate a group at once; return the batches that need a validation alone.

        A group that fails is split in halves and each half tried again, so one bad file
        among a hundred costs a dozen joint validations, not a hundred single ones."""
        if len(group) < 2:
            return group
        feed = group[0][1]
        suite_name = FEED_SUITES[feed]
        suite = load_suite_definition(suite_name)
        if not _combinable(suite):
            return group
        runner = self._runner()
        unbounded = {"volume_min": 0, "volume_max": None, "volume_extreme_max": None}
        try:
            frame = self.frame(feed, [batch[0] for batch in group])
            outcome = runner.run(suite_name, frame, {**self.base_parameters, **unbounded})
        except ENVIRONMENT_ERRORS:
            raise
        except Exception:
            # Validated one by one instead, where an error holds only its own batch.
            return group
        if outcome.failures:
            del frame
            if len(group) < MIN_GROUP_TO_SPLIT:
                return group
            middle = len(group) // 2
            return self.validate_together(group[:middle]) + self.validate_together(group[middle:])
        rows = frame["batch_id"].value_counts()
        mostly_columns = [
            e["kwargs"]["column"] for e in suite["expectations"] if "mostly" in e["kwargs"]
        ]
        shares = {
            column: frame[column].isna().groupby(frame["batch_id"]).mean()
            for column in mostly_columns
        }
        del frame
        alone = []
        for batch in group:
            batch_id, _, source_file, _ = batch
            count = int(rows.get(batch_id, 0))
            null_shares = {c: float(s.get(batch_id, 1.0)) for c, s in shares.items()}
            bounds = self._bounds(batch_id, feed, source_file)
            if not _passes_alone(suite, count, null_shares, bounds):
                alone.append(batch)
                continue
            own = SuiteOutcome(suite_name, count, outcome.evaluated, [], 0.0, outcome.results)
            together = {"validated_with_batches": [b[0] for b in group]}
            self.summary.batches.append(
                _record_batch_outcome(
                    self.settings,
                    self.con,
                    self.run_id,
                    batch_id,
                    feed,
                    source_file,
                    own,
                    together,
                )
            )
        logger.info(
            "%d %s batches (%d rows) passed together in %.2fs; %d validated alone",
            len(group) - len(alone),
            feed,
            outcome.rows,
            outcome.seconds,
            len(alone),
        )
        return alone

    def validate_alone(self, batch: tuple) -> None:
        batch_id, feed, source_file, rows = batch
        runner = self._runner()
        parameters = {**self.base_parameters, **self._bounds(batch_id, feed, source_file)}
        try:
            frame = self.frame(feed, [batch_id])
            outcome = runner.run(FEED_SUITES[feed], frame, parameters)
            del frame
        except ENVIRONMENT_ERRORS:
            raise
        except Exception as error:
            # One batch's data must not stop the others' validation, night after night:
            # a batch that cannot be validated is held, with the reason, for a steward.
            outcome = _unvalidated_outcome(FEED_SUITES[feed], rows, error)
        result = _record_batch_outcome(
            self.settings, self.con, self.run_id, batch_id, feed, source_file, outcome
        )
        if result.held:  # a held batch is no history for the sender's later batches
            key = (feed, sender_of(source_file))
            self.history[key] = [e for e in self.history.get(key, []) if e[0] != batch_id]
        self.summary.batches.append(result)
        logger.info(
            "batch %s (%s, %s): %d rows, %d expectations, %d critical / %d warning "
            "failures in %.2fs",
            batch_id,
            feed,
            source_file,
            outcome.rows,
            outcome.evaluated,
            len(outcome.critical),
            len(outcome.warnings),
            outcome.seconds,
        )


def _unvalidated_outcome(suite_name: str, rows: int, error: Exception) -> SuiteOutcome:
    logger.error("%s: validation could not run: %s", suite_name, describe_unexpected(error))
    return SuiteOutcome(
        suite_name=suite_name,
        rows=rows,
        evaluated=0,
        failures=[
            ExpectationFailure(
                expectation="batch_can_be_validated",
                severity="critical",
                why=(
                    "A batch that cannot be validated cannot be trusted: it is held until a "
                    "steward has looked at it."
                ),
                column=None,
                failing_rows=None,
                failing_percent=None,
                observed_value=None,
                samples=[],
                error=f"{type(error).__name__} while building or validating its frame",
            )
        ],
        seconds=0.0,
    )


def _record_batch_outcome(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    batch_id: int,
    feed: str,
    source_file: str,
    outcome: SuiteOutcome,
    extra: dict | None = None,
) -> BatchOutcome:
    """Record the validation, hold the batch on a critical failure, and alert.

    The alert row commits on its own before the validation row does: after a crash in
    between, the batch is validated (and alerted) again rather than held silently.
    """
    held = bool(outcome.critical)
    details = {
        "feed": feed,
        "source_file": source_file,
        "batch_id": batch_id,
        "suite": outcome.suite_name,
        "rows": outcome.rows,
        "failures": [f.as_dict() for f in outcome.critical + outcome.warnings],
    }
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "INSERT INTO audit.batch_validations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                batch_id,
                outcome.suite_name,
                not outcome.failures,
                len(outcome.critical),
                len(outcome.warnings),
                datetime.now(UTC).replace(tzinfo=None),
                run_id,
                json.dumps(
                    {
                        "rows": outcome.rows,
                        "failures": details["failures"],
                        "results": outcome.results or details["failures"],
                        **(extra or {}),
                    }
                ),
            ],
        )
        alert_id = None
        if held:
            first = outcome.critical[0]
            con.execute(
                """
                UPDATE audit.load_batches
                SET status = 'held',
                    message = concat_ws('; ', nullif(message, ''), ?)
                WHERE batch_id = ? AND status = 'loaded'
                """,
                [f"held: {first.expectation} on {first.column or 'the batch'} failed", batch_id],
            )
            alert_id = raise_alert(
                settings,
                severity="critical",
                source="batch_validation",
                subject=(
                    f"Batch {batch_id} held: {feed} file {source_file} failed "
                    f"{len(outcome.critical)} critical expectation(s)"
                ),
                message=(
                    f"Batch {batch_id} of feed {feed} ({source_file}, {outcome.rows} rows) "
                    f"is held and excluded from the marts. Failing:\n- "
                    + "\n- ".join(f.describe() for f in outcome.critical + outcome.warnings)
                    + f"\nReview it, then run `disruptions release {batch_id}` or "
                    f"`disruptions discard {batch_id}`."
                ),
                details=details,
                run_id=run_id,
                con=con,
            )
        elif outcome.warnings:
            alert_id = raise_alert(
                settings,
                severity="warning",
                source="batch_validation",
                subject=(
                    f"Batch {batch_id} loaded with {len(outcome.warnings)} warning(s): "
                    f"{feed} file {source_file}"
                ),
                message=(
                    f"Batch {batch_id} of feed {feed} ({source_file}, {outcome.rows} rows) is "
                    f"loaded and counted, with warnings:\n- "
                    + "\n- ".join(f.describe() for f in outcome.warnings)
                ),
                details=details,
                run_id=run_id,
                con=con,
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return BatchOutcome(batch_id, feed, source_file, outcome, held, alert_id)


# --- marts ------------------------------------------------------------------------------


def _mart_frames(weights: dict[str, float]) -> dict[str, str]:
    weighted = " + ".join(
        f"{weight!r} * {level}_count" for level, weight in weights.items() if level
    )
    return {
        "ocg_disruption_summary": f"""
            SELECT *,
                   CAST(total_disruptions - (major_count + moderate_count + minor_count
                        + negative_count) AS BIGINT) AS total_minus_levels,
                   CAST(round(net_disruption_score - ({weighted}), 6) AS DOUBLE)
                       AS net_score_minus_weighted
            FROM marts.ocg_disruption_summary
        """,
        "ocg_long_term_effect": """
            SELECT *,
                   coalesce(dismantled_within_12m = (effect_12m = 'dismantled'), false)
                       AS dismantled_flag_agrees,
                   score_change_12m IS NOT DISTINCT FROM (score_12m - baseline_score)
                       AS score_change_12m_agrees,
                   coalesce(
                       (baseline_date + INTERVAL 12 MONTH > as_of_date)
                       = (effect_12m IN ('too_early', 'dismantled')), false)
                   OR (effect_12m = 'dismantled') AS too_early_rule_agrees
            FROM marts.ocg_long_term_effect
        """,
        "disruptions_monthly": "SELECT * FROM marts.disruptions_monthly",
        "tactic_effectiveness": """
            SELECT *,
                   CAST(dismantled_12m + reduced_12m + no_change_12m + strengthened_12m
                        + not_reassessed_12m + insufficient_baseline_12m + too_early_12m
                        - ocgs_disrupted AS BIGINT) AS effects_minus_ocgs,
                   CAST(ocgs_with_12m_outcome - (ocgs_disrupted - too_early_12m) AS BIGINT)
                       AS outcome_minus_reached
            FROM marts.tactic_effectiveness
        """,
        "rocu_force_balance": """
            SELECT *,
                   CAST(rocu_disruptions - sum(force_disruptions) OVER (PARTITION BY rocu)
                        AS BIGINT) AS rocu_total_minus_forces
            FROM marts.rocu_force_balance
        """,
        "dim_ocg_assessment_history": """
            SELECT *,
                   CAST(count(*) FILTER (WHERE is_current) OVER (PARTITION BY ocg_id)
                        AS BIGINT) AS current_rows_for_ocg,
                   coalesce(is_current = (valid_to IS NULL), false) AS current_means_open
            FROM marts.dim_ocg_assessment_history
        """,
    }


def _mart_frame_sql(mart: str, sql: str) -> str:
    """The mart's frame with only the columns its suite reads, when the suite's column
    check allows more columns than it names (exact_match false): wide text columns GX
    never looks at would otherwise be carried, and copied by GX's row filters."""
    columns: list[str] = []
    for expectation in load_suite_definition(mart)["expectations"]:
        kwargs = expectation["kwargs"]
        if expectation["type"] == "expect_table_columns_to_match_set":
            if kwargs.get("exact_match", True):
                return sql
            columns += kwargs["column_set"]
        columns += [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]
        columns += kwargs.get("column_list") or []
    if not columns:
        return sql
    names = ", ".join('"' + name.replace('"', '""') + '"' for name in dict.fromkeys(columns))
    return f"SELECT {names} FROM ({sql})"


# The versioning rule of SPEC section 4, recomputed here from raw on purpose: the
# reconciliation then checks dbt's intermediate model against an independent reading.
# A disruption's current version is its latest by (recorded_at, batch_id, line_number),
# and it counts when that version is approved. Rather than arg_max over a struct of
# those three (about half of this query's cost at 10M rows), each version is packed into
# one HUGEINT that orders the same way, with the approved flag in its lowest bit:
#     (epoch_us(recorded_at) + 2^62) << 64 | batch_id << 33 | line_number << 1 | approved
# so max() per disruption_id picks the current version and its lowest bit says whether
# it counts (a NULL status is not approved, as with arg_max). The grouping stays on the
# id itself (not a hash of it), so it is exact, and every knowable version of every
# disruption is read: a wrong versioning rule shows in the total, whichever rows it hits.
# The packing needs 0 <= batch_id < 2^31 and 0 <= line_number < 2^32 (PACKING_FITS);
# otherwise the struct form below is used.
_KNOWABLE_VERSIONS = """
        FROM raw.disruptions AS d
        JOIN audit.load_batches AS b ON b.batch_id = d.batch_id AND b.status = 'loaded'
        WHERE d.recorded_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
          AND d.disruption_date <= CAST($as_of AS DATE)
"""
RECOMPUTED_COUNTED_SQL = f"""
    WITH current_versions AS (
        SELECT max(
                   (CAST(epoch_us(d.recorded_at) + 4611686018427387904 AS HUGEINT) << 64)
                   | (CAST(d.batch_id AS HUGEINT) << 33)
                   | (CAST(d.line_number AS HUGEINT) << 1)
                   | CAST(coalesce(d.status = 'approved', false) AS HUGEINT)
               ) AS version
        {_KNOWABLE_VERSIONS}
        GROUP BY d.disruption_id
    )
    SELECT count(*) FILTER (WHERE version & 1 = 1) FROM current_versions
"""
RECOMPUTED_COUNTED_STRUCT_SQL = f"""
    WITH current_versions AS (
        SELECT arg_max(d.status, (d.recorded_at, d.batch_id, d.line_number)) AS status
        {_KNOWABLE_VERSIONS}
        GROUP BY d.disruption_id
    )
    SELECT count(*) FILTER (WHERE status = 'approved') FROM current_versions
"""
PACKING_FITS = """
    SELECT count(*) = 0 FROM raw.disruptions
    WHERE batch_id NOT BETWEEN 0 AND 2147483647 OR line_number NOT BETWEEN 0 AND 4294967295
"""


def recount_counted(con: duckdb.DuckDBPyConnection, as_of: date) -> int | None:
    """The counted disruptions by SPEC section 4's versioning rule, straight from raw."""
    fits = con.execute(PACKING_FITS).fetchall()[0][0]
    sql = RECOMPUTED_COUNTED_SQL if fits else RECOMPUTED_COUNTED_STRUCT_SQL
    return _scalar(con, sql, {"as_of": as_of.isoformat()})


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchall()[0][0]
    )


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params=None) -> int | None:
    try:
        value = con.execute(sql, params or []).fetchall()[0][0]
    except duckdb.Error as error:
        logger.warning("reconciliation query failed: %s", error)
        return None
    return int(value) if value is not None else 0


def reconciliation_frame(con: duckdb.DuckDBPyConnection, as_of: date):
    import pandas as pd

    def when(table: str, sql: str) -> int | None:
        schema, name = table.split(".")
        return _scalar(con, sql) if _table_exists(con, schema, name) else None

    row = {
        "counted_in_staging": when(
            "intermediate.int_disruptions_current",
            "SELECT count(*) FILTER (WHERE is_counted) FROM intermediate.int_disruptions_current",
        ),
        "counted_recomputed": recount_counted(con, as_of),
        "summary_counted": when(
            "marts.ocg_disruption_summary",
            "SELECT sum(total_disruptions) + sum(none_count) FROM marts.ocg_disruption_summary",
        ),
        "summary_disruptions": when(
            "marts.ocg_disruption_summary",
            "SELECT sum(total_disruptions) FROM marts.ocg_disruption_summary",
        ),
        "summary_ocgs_disrupted": when(
            "marts.ocg_disruption_summary",
            "SELECT count(*) FILTER (WHERE total_disruptions > 0) "
            "FROM marts.ocg_disruption_summary",
        ),
        "monthly_counted": when(
            "marts.disruptions_monthly",
            "SELECT sum(disruption_count) FROM marts.disruptions_monthly",
        ),
        "long_term_rows": when(
            "marts.ocg_long_term_effect", "SELECT count(*) FROM marts.ocg_long_term_effect"
        ),
        "balance_disruptions": when(
            "marts.rocu_force_balance",
            "SELECT sum(force_disruptions) FROM marts.rocu_force_balance",
        ),
    }
    if row["counted_in_staging"] is None:
        # Without the intermediate model, the independent recomputation stands in for it.
        logger.warning(
            "intermediate.int_disruptions_current not found: reconciling the marts with "
            "the recomputation from raw only"
        )
        row["counted_in_staging"] = row["counted_recomputed"]
    frame = pd.DataFrame([row])
    return frame.astype({name: "float64" for name in row})


def _missing_table_outcome(suite_name: str, table: str) -> SuiteOutcome:
    return SuiteOutcome(
        suite_name=suite_name,
        rows=0,
        evaluated=0,
        failures=[
            ExpectationFailure(
                expectation="table_exists",
                severity="critical",
                why="dbt must build every public mart before it is validated and published",
                column=None,
                failing_rows=None,
                failing_percent=None,
                observed_value=f"{table} does not exist",
                samples=[],
            )
        ],
        seconds=0.0,
    )


def validate_marts(settings: Settings, run_id: str, as_of: date) -> MartValidationSummary:
    """Validate every public mart and the marts' reconciliation with the counted
    disruptions; a critical failure alerts and raises PipelineError (publishing blocked)."""
    started = time.perf_counter()
    summary = MartValidationSummary()
    parameters = {**seed_parameters(), "as_of": f"{as_of.isoformat()}T00:00:00"}
    with open_warehouse(settings) as con:
        # GX imports (seconds of pure Python) while DuckDB builds the frames on a second
        # connection, one ahead of the validation that reads them.
        gx_import = threading.Thread(target=_import_gx, name="import-gx", daemon=True)
        gx_import.start()
        frames = _mart_frames(impact_weights())
        present = [mart for mart in MART_SUITES if _table_exists(con, "marts", mart)]
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mart-frame") as pool:
            cursor = con.cursor()
            built: dict[str, Future] = {}

            def build_ahead(index: int) -> None:
                # One frame ahead, no more: at 10M rows the frames together are over a
                # GiB, and building them all at once set the step's peak memory.
                if index < len(present):
                    mart = present[index]
                    built[mart] = pool.submit(
                        query_frame, cursor, _mart_frame_sql(mart, frames[mart])
                    )

            try:
                built[RECONCILIATION_SUITE] = pool.submit(reconciliation_frame, cursor, as_of)
                build_ahead(0)
                gx_import.join()
                runner = SuiteRunner(settings)
                for mart in MART_SUITES:
                    if mart not in present:
                        summary.outcomes.append(_missing_table_outcome(mart, f"marts.{mart}"))
                        continue
                    frame = built.pop(mart).result()
                    build_ahead(present.index(mart) + 1)
                    summary.outcomes.append(runner.run(mart, frame, parameters))
                    del frame
                reconciliation = built.pop(RECONCILIATION_SUITE).result()
                summary.outcomes.append(
                    runner.run(RECONCILIATION_SUITE, reconciliation, parameters)
                )
            finally:
                for future in built.values():
                    future.cancel()
                pool.shutdown(wait=True)
                cursor.close()
        for outcome in summary.outcomes:
            if outcome.failures:
                summary.alert_ids.append(_alert_mart(settings, con, run_id, as_of, outcome))
    release_memory()
    summary.seconds = time.perf_counter() - started
    logger.info("%s", str(summary).splitlines()[0])
    if not summary.success:
        failing = sorted({suite for suite, _ in summary.critical_failures})
        raise PipelineError(
            f"mart validation failed for {', '.join(failing)} "
            f"({len(summary.critical_failures)} critical expectation(s)); publishing blocked",
            alert_raised=True,
        )
    return summary


def _alert_mart(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    as_of: date,
    outcome: SuiteOutcome,
) -> int:
    critical = bool(outcome.critical)
    table = (
        "the marts' reconciliation"
        if outcome.suite_name == RECONCILIATION_SUITE
        else f"marts.{outcome.suite_name}"
    )
    failures = outcome.critical + outcome.warnings
    return raise_alert(
        settings,
        severity="critical" if critical else "warning",
        source="mart_validation",
        subject=(
            f"{table} failed {len(outcome.critical)} critical expectation(s); publishing blocked"
            if critical
            else f"{table}: {len(outcome.warnings)} warning(s)"
        ),
        message=(
            f"Validation of {table} for as_of {as_of.isoformat()} ({outcome.rows} rows):\n- "
            + "\n- ".join(f.describe() for f in failures)
            + ("\nThe run fails and the previous publication stays in place." if critical else "")
        ),
        details={
            "mart": table,
            "suite": outcome.suite_name,
            "as_of": as_of.isoformat(),
            "rows": outcome.rows,
            "failures": [f.as_dict() for f in failures],
        },
        run_id=run_id,
        con=con,
    )
