"""PostgreSQL, the shared national warehouse (DISRUPTIONS_ENGINE=postgres; SPEC section 7).

Schemas, and who may use them:

- `raw` and `ledger`: the rows of every validated batch and the ledger dbt reads, copied
  in from the control plane (the working DuckDB file) by COPY, one transaction a night,
  so a crash mid-load leaves no partial batch. The rationale is not copied: the shared
  warehouse never holds it (its column stays, empty, so the sources match every engine).
- `build_reference`, `build_staging`, `build_intermediate`, `build_marts`: what dbt builds
  and tests.
- `marts`, `audit`, `reference`: what readers see, under the same names as in the
  published DuckDB file. Publication fills `<schema>__next` and renames it in for the
  live schema in one transaction, so a reader's query sees the old publication or the
  new one, never a mix or an error; `audit.publication` names the run it came from.

Only the pipeline's writer (the login of DISRUPTIONS_POSTGRES_URL) has rights on the first
two groups. Reader roles, created by publication as NOLOGIN roles that an administrator
grants to people's logins:

- `disruptions_reader`: the national reader, every published row;
- `disruptions_region_<rocu>` for each ROCU of the seed: its region's rows only, by
  row-level security on every mart with the same rule as the regional files on DuckDB
  (publish/regions.py REGIONAL_ROWS), plus the reference tables and the audit tables that
  name no OCG. Their grants are held by the group role `disruptions_regional_reader`.

No reader role can read raw, ledger or build_*, or write anything.

The read side of the CLI (query, export, explain, report) connects with the same URL,
takes the ROCU's role with `--rocu`, and copies what that role may see into an in-memory
DuckDB database, so every command and saved query runs unchanged on every engine while
PostgreSQL decides who sees which rows.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from disruptions.config import Settings, checked_rocu_code
from disruptions.engines.control_plane import (
    LEDGER_TABLES,
    RAW_FEEDS,
    batches_to_load,
    quote_ident,
    raw_feed_select,
)
from disruptions.errors import PipelineError, UserError
from disruptions.warehouse import open_warehouse

log = logging.getLogger(__name__)

READER_ROLE = "disruptions_reader"
REGIONAL_READER_ROLE = "disruptions_regional_reader"
PUBLISHED_SCHEMAS = ("marts", "audit", "reference")
BUILD_SCHEMA_PREFIX = "build_"  # dbt_project/macros/generate_schema_name.sql
# How long publication waits for a reader's lock before giving up (it then fails, and
# the previous publication stays live).
SWAP_LOCK_TIMEOUT = "60s"
PUBLICATION_READ_ATTEMPTS = 3

_DUCKDB_TO_POSTGRES = {
    "VARCHAR": "text",
    "JSON": "json",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "UBIGINT": "numeric(20)",
    "HUGEINT": "numeric(38)",
}
_POSTGRES_TO_DUCKDB = {
    "text": "VARCHAR",
    "character varying": "VARCHAR",
    "character": "VARCHAR",
    "json": "JSON",
    "jsonb": "JSON",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "double precision": "DOUBLE",
    "real": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMPTZ",
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),(\d+)\)")


def regional_role(rocu: str) -> str:
    # ROCU codes are capitals, digits and underscores (config.ROCU_CODE): a safe name.
    return f"disruptions_region_{checked_rocu_code(rocu).lower()}"


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def postgres_type(duckdb_type: str) -> str:
    decimal = _DECIMAL.fullmatch(duckdb_type)
    if decimal:
        return f"numeric({decimal[1]},{decimal[2]})"
    try:
        return _DUCKDB_TO_POSTGRES[duckdb_type]
    except KeyError:
        raise PipelineError(f"no PostgreSQL type for DuckDB's {duckdb_type}") from None


def duckdb_type(data_type: str, precision: int | None, scale: int | None) -> str:
    if data_type == "numeric":
        # An unconstrained numeric has no DuckDB equal; every contract column has a type.
        return f"DECIMAL({precision},{scale})" if precision else "DOUBLE"
    try:
        return _POSTGRES_TO_DUCKDB[data_type]
    except KeyError:
        raise PipelineError(f"no DuckDB type for PostgreSQL's {data_type}") from None


class QmarkConnection:
    """The build pre-checks' SQL (qmark parameters, as DuckDB takes them) on psycopg."""

    def __init__(self, connection) -> None:
        self.connection = connection

    def execute(self, sql: str, parameters=()):
        return self.connection.execute(sql.replace("?", "%s"), list(parameters))


class PostgresEngine:
    name = "postgres"
    dbt_target = "postgres"

    def __init__(self, settings: Settings) -> None:
        if not settings.postgres_url:
            raise UserError("DISRUPTIONS_ENGINE=postgres needs DISRUPTIONS_POSTGRES_URL")
        self.settings = settings
        self.url = settings.postgres_url

    # --- connection and dbt ---------------------------------------------------------------
    def connect(self):
        import psycopg

        try:
            return psycopg.connect(
                self.url, autocommit=True, connect_timeout=10, application_name="disruptions"
            )
        except psycopg.OperationalError as error:
            # psycopg's message names host and port, never the password.
            raise UserError(
                "cannot connect to the PostgreSQL warehouse (DISRUPTIONS_POSTGRES_URL): "
                + " ".join(str(error).split())[:300]
            ) from None

    def dbt_executable(self) -> Path:
        from disruptions.transform.dbt import dbt_executable

        return dbt_executable()

    def dbt_environment(self) -> dict[str, str]:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(self.url)
        return {
            "DISRUPTIONS_PG_HOST": str(parts.get("host") or "localhost"),
            "DISRUPTIONS_PG_PORT": str(parts.get("port") or 5432),
            "DISRUPTIONS_PG_USER": str(parts.get("user") or ""),
            "DISRUPTIONS_PG_DBNAME": str(parts.get("dbname") or parts.get("user") or ""),
            # dbt scrubs DBT_ENV_SECRET_* values from its logs and artifacts.
            "DBT_ENV_SECRET_PG_PASSWORD": str(parts.get("password") or ""),
        }

    def dbt_vars(self) -> dict[str, Any]:
        return {"type_double": "double precision"}

    def schema(self, name: str) -> str:
        return BUILD_SCHEMA_PREFIX + name

    @contextmanager
    def build_state(self) -> Iterator[QmarkConnection]:
        with self.connect() as connection:
            yield QmarkConnection(connection)

    # --- loading --------------------------------------------------------------------------
    def load_validated_batches(self, run_id: str, as_of: date) -> dict[str, int]:
        """Copy the rows of every batch the engine lacks, then the ledger and the run
        context, in one transaction. Each batch's copied rows must equal its ledger's
        rows_loaded, or nothing is kept."""
        from disruptions.transform.build import write_run_context

        loaded = {"batches": 0, "rows": 0}
        with open_warehouse(self.settings) as duck, self.connect() as pg, self._scratch() as tmp:
            write_run_context(duck, run_id, as_of)
            with pg.transaction():
                for schema in ("raw", "ledger"):
                    pg.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                pg.execute(
                    "CREATE TABLE IF NOT EXISTS ledger.engine_batches (batch_id bigint PRIMARY "
                    "KEY, feed text NOT NULL, sha256 text NOT NULL, rows_loaded bigint NOT NULL, "
                    "loaded_at timestamp NOT NULL DEFAULT now(), run_id text)"
                )
                # One loader at a time; a second waits for the first to commit.
                pg.execute("LOCK TABLE ledger.engine_batches IN EXCLUSIVE MODE")
                present = dict(
                    pg.execute("SELECT batch_id, sha256 FROM ledger.engine_batches").fetchall()
                )
                ledger = batches_to_load(duck)
                _refuse_another_ledger(present, ledger)
                batches = [row for row in ledger if row[0] not in present]
                for feed in RAW_FEEDS:
                    ids = [batch_id for batch_id, batch_feed, _, _ in batches if batch_feed == feed]
                    expected = sum(rows for _, batch_feed, _, rows in batches if batch_feed == feed)
                    copied = self._copy_feed(duck, pg, feed, ids, tmp) if ids else 0
                    if copied != expected:
                        raise PipelineError(
                            f"loading raw.{feed} into PostgreSQL copied {copied} rows where "
                            f"the ledger says {expected}: nothing loaded"
                        )
                    loaded["rows"] += copied
                with pg.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO ledger.engine_batches "
                        "(batch_id, feed, sha256, rows_loaded, run_id) VALUES (%s, %s, %s, %s, %s)",
                        [(*batch, run_id) for batch in batches],
                    )
                for table in LEDGER_TABLES:
                    select = f"SELECT * FROM audit.{table}"
                    target = f"ledger.{table}"
                    ensure_table_like(duck, pg, select, {}, target)
                    pg.execute(f"DELETE FROM {target}")
                    copy_from_duckdb(duck, pg, select, {}, target, tmp)
                loaded["batches"] = len(batches)
        log.info("postgres: loaded %d batch(es), %d rows", loaded["batches"], loaded["rows"])
        return loaded

    def _copy_feed(self, duck, pg, feed: str, batch_ids: list[int], tmp: Path) -> int:
        """Copy the rows of `batch_ids` of one feed; return how many."""
        select = raw_feed_select(duck, feed)
        select += " WHERE list_contains($batch_ids, batch_id)"
        parameters = {"batch_ids": batch_ids}
        ensure_table_like(duck, pg, select, parameters, f"raw.{feed}")
        return copy_from_duckdb(duck, pg, select, parameters, f"raw.{feed}", tmp)

    # --- publication ----------------------------------------------------------------------
    def published_location(self) -> str:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(self.url)
        where = f"{parts.get('host') or 'localhost'}:{parts.get('port') or 5432}"
        return f"PostgreSQL {where}/{parts.get('dbname') or ''}, schemas marts, audit, reference"

    def publish(self, run_id: str) -> str:
        """Fill marts__next, audit__next and reference__next, give them their grants and
        row-level security, then rename them in for the live schemas in one transaction."""
        from disruptions.publish.marts import PUBLISHED_BATCH_STATUS, public_audit_plan
        from disruptions.reference import SEEDS, read_reference

        with open_warehouse(self.settings) as duck, self.connect() as pg, self._scratch() as tmp:
            rocus = read_reference(duck).rocus
            audit_plan = public_audit_plan(duck)
            self.ensure_roles(pg, rocus)
            # What a failed or interrupted publication left, and the previous one's tables
            # if a reader held them past the last publication.
            for schema in PUBLISHED_SCHEMAS:
                pg.execute(f"DROP SCHEMA IF EXISTS {schema}__next CASCADE")
                if not _drop_old_schema(pg, schema):
                    raise PipelineError(
                        f"publish: a reader has held {schema}__old (the publication before "
                        f"last) for over {SWAP_LOCK_TIMEOUT}; the live marts are unchanged"
                    )
            marts = self._build_marts(pg)
            with pg.transaction():
                for schema in PUBLISHED_SCHEMAS:
                    pg.execute(f"CREATE SCHEMA {schema}__next")
                for mart in marts:
                    pg.execute(
                        f"CREATE TABLE marts__next.{quote_ident(mart)} AS "
                        f"SELECT * FROM {self.schema('marts')}.{quote_ident(mart)}"
                    )
                for seed in SEEDS:
                    pg.execute(
                        f"CREATE TABLE reference__next.{seed} AS "
                        f"SELECT * FROM {self.schema('reference')}.{seed}"
                    )
                for copy in audit_plan:
                    target = f"audit__next.{quote_ident(copy.table)}"
                    ensure_table_like(duck, pg, copy.select, copy.parameters, target)
                    copy_from_duckdb(duck, pg, copy.select, copy.parameters, target, tmp)
                status_table = PUBLISHED_BATCH_STATUS.split(".")[1]
                pg.execute(
                    f"CREATE TABLE audit__next.{status_table} AS "
                    f"SELECT * FROM {self.schema('staging')}.stg_load_batches"
                )
                pg.execute(
                    "CREATE TABLE audit__next.publication AS "
                    "SELECT CAST(%s AS text) AS run_id, "
                    "CAST(now() AT TIME ZONE 'UTC' AS timestamp) AS published_at",
                    [run_id],
                )
                self._grant_readers(pg, marts, rocus)
            self._swap_in(pg)
        log.info(
            "published %d marts to PostgreSQL for %d regions (run %s)",
            len(marts),
            len(rocus),
            run_id,
        )
        return f"{self.published_location()} ({len(marts)} marts)"

    def _build_marts(self, pg) -> list[str]:
        from disruptions.publish.regions import REGIONAL_ROWS

        marts = [
            name
            for (name,) in pg.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "ORDER BY table_name",
                [self.schema("marts")],
            ).fetchall()
        ]
        if not marts:
            raise PipelineError(
                f"publish: PostgreSQL has no tables in schema {self.schema('marts')} "
                "(has dbt built them?)"
            )
        unknown = [mart for mart in marts if mart not in REGIONAL_ROWS]
        if unknown:
            raise PipelineError(
                f"publish: no regional rule for marts {', '.join(unknown)} "
                "(publish/regions.py REGIONAL_ROWS); refusing to publish them without "
                "row-level security"
            )
        return marts

    def ensure_roles(self, pg, rocus: list[str]) -> None:
        """The reader roles, and the writer's membership of the regional ones (so that
        a regional report is read through that region's row-level security)."""
        wanted = [(READER_ROLE, None), (REGIONAL_READER_ROLE, None)]
        wanted += [(regional_role(code), REGIONAL_READER_ROLE) for code in rocus]
        existing = {name for (name,) in pg.execute("SELECT rolname FROM pg_roles").fetchall()}
        for role, group in wanted:
            if role not in existing:
                pg.execute(f"CREATE ROLE {role} NOLOGIN")
            if group:
                pg.execute(f"GRANT {group} TO {role}")
                pg.execute(f"GRANT {role} TO CURRENT_USER")

    def _grant_readers(self, pg, marts: list[str], rocus: list[str]) -> None:
        from disruptions.publish.regions import REGIONAL_AUDIT, REGIONAL_ROWS

        readers = f"{READER_ROLE}, {REGIONAL_READER_ROLE}"
        for schema in PUBLISHED_SCHEMAS:
            pg.execute(f"GRANT USAGE ON SCHEMA {schema}__next TO {readers}")
        pg.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA marts__next TO {readers}")
        pg.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA reference__next TO {readers}")
        pg.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA audit__next TO {READER_ROLE}")
        for table in [*REGIONAL_AUDIT, "publication"]:
            pg.execute(f"GRANT SELECT ON audit__next.{table} TO {REGIONAL_READER_ROLE}")
        for mart in marts:
            table = f"marts__next.{quote_ident(mart)}"
            pg.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            pg.execute(
                f"CREATE POLICY national ON {table} FOR SELECT TO {READER_ROLE} USING (true)"
            )
            # The policy binds the tables it names now, so it names the __next ones: the
            # rename keeps them bound to the same tables.
            rule = REGIONAL_ROWS[mart].replace("marts.", "marts__next.")
            for code in rocus:
                pg.execute(
                    f"CREATE POLICY {regional_role(code)} ON {table} FOR SELECT "
                    f"TO {regional_role(code)} USING ({rule.replace('$rocu', quote_literal(code))})"
                )

    def _swap_in(self, pg) -> None:
        with pg.transaction():
            pg.execute(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
            live = {
                name
                for (name,) in pg.execute(
                    "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)",
                    [list(PUBLISHED_SCHEMAS)],
                ).fetchall()
            }
            for schema in PUBLISHED_SCHEMAS:
                if schema in live:
                    pg.execute(f"ALTER SCHEMA {schema} RENAME TO {schema}__old")
                pg.execute(f"ALTER SCHEMA {schema}__next RENAME TO {schema}")
        # Separately: dropping waits for readers still on the old tables, and must not
        # hold up the new publication meanwhile. A reader slower than the timeout keeps
        # them until the next publication.
        for schema in PUBLISHED_SCHEMAS:
            if not _drop_old_schema(pg, schema):
                log.warning("postgres: %s__old is still being read; dropped next time", schema)

    # --- the read side --------------------------------------------------------------------
    @contextmanager
    def open_published(
        self, rocu: str | None = None, named_in: str | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """With `named_in`, only the published tables whose names occur in that text
        as words are copied (all of them when it names none: SHOW TABLES, say), so a
        query of the summary does not wait for every claim to be copied."""
        code = checked_rocu_code(rocu.strip().upper()) if rocu is not None else None
        with self.connect() as pg, self._scratch() as tmp:
            if code:
                self._become_regional_reader(pg, code)
            # A file in the private scratch folder rather than memory: the claim versions
            # alone are 10M rows at national scale, and a file lets DuckDB spill to disk
            # beyond its memory limit.
            duck = duckdb.connect(str(tmp / "published.duckdb"))
            try:
                duck.execute("SET memory_limit = ?", [self.settings.duckdb_memory_limit])
                copy_publication(pg, duck, tmp, named_in)
                duck.execute("SET enable_external_access = false")
                duck.execute("SET lock_configuration = true")
                yield duck
            finally:
                duck.close()

    def _become_regional_reader(self, pg, code: str) -> None:
        import psycopg

        role = regional_role(code)
        if not pg.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
            raise UserError(
                f"unknown ROCU {code!r}: the national warehouse has no role {role} "
                "(run `disruptions run` first)"
            )
        try:
            pg.execute(f"SET ROLE {role}")
        except psycopg.errors.InsufficientPrivilege:
            raise UserError(
                f"this login may not read as {code}: it is not a member of role {role}"
            ) from None

    @contextmanager
    def _scratch(self) -> Iterator[Path]:
        """A private folder for the CSV streams between the engines, removed after."""
        folder = Path(tempfile.mkdtemp(prefix="disruptions-pg-"))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _refuse_another_ledger(present: dict[int, str], ledger: list[tuple]) -> None:
    """A batch id the warehouse holds must be the same file as in the control plane's
    ledger. If the working file was lost and started again, its batch ids would restart
    at 1 and name other files: loading on would skip them silently."""
    for batch_id, _feed, sha256, _rows in ledger:
        if batch_id in present and present[batch_id] != sha256:
            raise PipelineError(
                f"the PostgreSQL warehouse holds batch {batch_id} from another ledger (another "
                "working file?): it was loaded from a different file than this ledger's batch "
                f"{batch_id}. Nothing loaded; point DISRUPTIONS_HOME at the warehouse's own "
                "working file, or load into an empty database"
            )


def _drop_old_schema(pg, schema: str) -> bool:
    """Drop `<schema>__old`, waiting at most SWAP_LOCK_TIMEOUT for its readers."""
    import psycopg

    try:
        with pg.transaction():
            pg.execute(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
            pg.execute(f"DROP SCHEMA IF EXISTS {schema}__old CASCADE")
    except psycopg.errors.LockNotAvailable:
        return False
    return True


def ensure_table_like(duck, pg, select: str, parameters: dict, target: str) -> None:
    """CREATE TABLE IF NOT EXISTS `target` with the columns and types of a DuckDB query."""
    relation = duck.sql(select, params=parameters or None)
    columns = ", ".join(
        f"{quote_ident(name)} {postgres_type(str(kind))}"
        for name, kind in zip(relation.columns, relation.types, strict=True)
    )
    pg.execute(f"CREATE TABLE IF NOT EXISTS {target} ({columns})")


def copy_from_duckdb(duck, pg, select: str, parameters: dict, target: str, tmp: Path) -> int:
    """COPY a DuckDB query's rows into a PostgreSQL table; return how many."""
    relation = duck.sql(select, params=parameters or None)
    path = tmp / "rows.csv"
    relation.write_csv(str(path), header=False)
    columns = ", ".join(quote_ident(name) for name in relation.columns)
    statement = f"COPY {target} ({columns}) FROM STDIN (FORMAT csv)"
    with pg.cursor() as cursor:
        with cursor.copy(statement) as copy, open(path, "rb") as rows:
            while chunk := rows.read(1 << 20):
                copy.write(chunk)
        # Known once the COPY has ended.
        count = cursor.rowcount
    path.unlink()
    return count


def copy_publication(
    pg, duck: duckdb.DuckDBPyConnection, tmp: Path, named_in: str | None = None
) -> None:
    """Copy every published table the connection's role may read into `duck` (only
    those named in `named_in`, when it names any).

    Each table is read in its own statement; if a publication is swapped in meanwhile
    (audit.publication changed), the copy starts again, so the result is one
    publication's tables, never a mix."""
    for _attempt in range(PUBLICATION_READ_ATTEMPTS):
        before = _publication_run(pg)
        if before is None:
            raise UserError("no published marts yet on PostgreSQL; run `disruptions run` first")
        tables = pg.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = ANY(%s) ORDER BY 1, 2",
            [list(PUBLISHED_SCHEMAS)],
        ).fetchall()
        if named_in is not None:
            words = {word.lower() for word in re.findall(r"\w+", named_in)}
            named = [(schema, table) for schema, table in tables if table.lower() in words]
            tables = named or tables
        for schema in PUBLISHED_SCHEMAS:
            duck.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            duck.execute(f"CREATE SCHEMA {schema}")
        for schema, table in tables:
            _copy_table(pg, duck, schema, table, tmp)
        if _publication_run(pg) == before:
            return
    raise UserError("the published marts kept changing while being read; try again")


def _publication_run(pg) -> str | None:
    import psycopg

    try:
        row = pg.execute("SELECT run_id FROM audit.publication").fetchone()
    except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
        return None
    return row[0] if row else None


def _copy_table(pg, duck, schema: str, table: str, tmp: Path) -> None:
    columns = pg.execute(
        "SELECT column_name, data_type, numeric_precision, numeric_scale "
        "FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    target = f"{schema}.{quote_ident(table)}"
    definition = ", ".join(
        f"{quote_ident(name)} {duckdb_type(kind, precision, scale)}"
        for name, kind, precision, scale in columns
    )
    duck.execute(f"CREATE TABLE {target} ({definition})")
    path = tmp / "published.csv"
    with pg.cursor() as cursor, open(path, "wb") as rows:
        source = f"{quote_ident(schema)}.{quote_ident(table)}"
        with cursor.copy(f"COPY (SELECT * FROM {source}) TO STDOUT (FORMAT csv)") as copy:
            for chunk in copy:
                rows.write(chunk)
    if path.stat().st_size:
        # PostgreSQL's CSV: NULL unquoted and empty, an empty string quoted.
        duck.execute(
            f"COPY {target} FROM '{path}' (FORMAT csv, HEADER false, DELIMITER ',', "
            "QUOTE '\"', ESCAPE '\"', AUTO_DETECT false, allow_quoted_nulls false)"
        )
    path.unlink()
