"""What a feed suite validates: a batch's rows as a pandas frame, built by DuckDB.

GX's SQL datasource does not work on DuckDB, so DuckDB does the reading and the derived
flags (recorded_on, unknown_ocg_id, conflicting_version, ...), selects only the columns
the suite reads (never rationale), and hands GX an Arrow-backed DataFrame with
low-cardinality columns as categoricals and dates as datetime64[ns] (the dtype GX's
between-checks vectorise).
"""

from __future__ import annotations

import duckdb

from disruptions.reference import read_reference
from disruptions.warehouse import BATCH_STATUS

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
            JOIN {BATCH_STATUS} AS b ON b.batch_id = a.batch_id
            WHERE b.is_counted_in_marts
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
            JOIN {BATCH_STATUS} AS other_batch
              ON other_batch.batch_id = other.batch_id AND other_batch.is_counted_in_marts
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


def suite_parameters(con: duckdb.DuckDBPyConnection) -> dict:
    """The reference lists the feed suites check codes against ($PARAMETER in their JSON),
    from the reference tables dbt built from seeds/."""
    reference = read_reference(con)
    return {
        "impact_levels": list(reference.impacts),
        "tactics": list(reference.tactics),
        "forces": list(reference.forces),
        "rocus": list(reference.rocus),
        "lead_agencies": list(reference.lead_agencies),
        "bands": [band.band for band in reference.bands],
    }


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
