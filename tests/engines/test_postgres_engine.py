"""The PostgreSQL engine on a real server (Debian's binaries, on loopback): the same sample
run through the whole pipeline (`disruptions run`, a real Airflow DAG run) on DuckDB and
on PostgreSQL gives the same marts; the reader roles see what they should and are
refused everything else; a reader during publication sees one publication, never an
error or a mix; a crash mid-load leaves no partial batch; the dbt unit tests pass there.
"""

from __future__ import annotations

import secrets
import subprocess
import threading
import time

import duckdb
import postgres_server  # tests/ is on sys.path
import psycopg
import pytest
from engine_parity import (
    AS_OF,
    CLI,
    EngineSample,
    assert_same_rows,
    columns,
    engine_env,
    rows,
    run_night,
)

from disruptions.config import PUBLIC_MARTS, load_settings
from disruptions.engines import open_published
from disruptions.engines.duckdb import DuckDBEngine
from disruptions.engines.postgres import (
    READER_ROLE,
    PostgresEngine,
    regional_role,
)
from disruptions.publish.marts import PUBLISHED_AUDIT_TABLES
from disruptions.reference import SEEDS, read_reference
from disruptions.transform.build import read_last_build

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not postgres_server.PG_BIN, reason=postgres_server.MISSING),
]

REGION = "EMSOU"


class Warehouse:
    """The server, the writer's URL, and the two homes the sample was run in."""

    def __init__(self, port: int, writer_password: str, sample: EngineSample) -> None:
        self.port = port
        self.writer_password = writer_password
        self.writer_url = self.url("disruptions_writer", writer_password)
        self.landing = sample.landing
        self.duck_home = sample.duck_home
        self.pg_home = sample.root / "postgres-home"

    def url(self, user: str, password: str, dbname: str = "disruptions") -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{dbname}"

    def env(self, engine: str) -> dict[str, str]:
        if engine == "postgres":
            return engine_env(engine, DISRUPTIONS_POSTGRES_URL=self.writer_url)
        return engine_env(engine)

    def settings(self, monkeypatch):
        monkeypatch.setenv("DISRUPTIONS_ENGINE", "postgres")
        monkeypatch.setenv("DISRUPTIONS_POSTGRES_URL", self.writer_url)
        return load_settings(home=self.pg_home, landing=self.landing)


def superuser(port: int, dbname: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(
        host="127.0.0.1", port=port, user="admin", dbname=dbname, autocommit=True
    )


def create_login(port: int, role: str, member_of: str) -> str:
    """A person's login, granted a reader role, with a password made up for this test."""
    password = secrets.token_urlsafe(16)
    with superuser(port) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        admin.execute(f"GRANT {member_of} TO {role}")
    return password


@pytest.fixture(scope="module")
def warehouse(engine_sample) -> Warehouse:
    with postgres_server.postgres_cluster(superuser="admin") as port:
        # The pipeline's writer: no superuser, as in a real deployment; it may create the
        # reader roles.
        password = secrets.token_urlsafe(16)
        with superuser(port) as admin:
            admin.execute(f"CREATE ROLE disruptions_writer LOGIN CREATEROLE PASSWORD '{password}'")
            admin.execute("CREATE DATABASE disruptions OWNER disruptions_writer")
        warehouse = Warehouse(port, password, engine_sample)
        run_night(warehouse.pg_home, warehouse.landing, warehouse.env("postgres"))
        yield warehouse


def test_the_same_sample_gives_the_same_marts_on_postgres_as_on_duckdb(warehouse, monkeypatch):
    assert_same_publications(warehouse, warehouse.settings(monkeypatch))


def assert_same_publications(warehouse: Warehouse, settings) -> None:
    """Every published mart, national and per ROCU, equals the DuckDB engine's."""
    on_duckdb_engine = DuckDBEngine(load_settings(home=warehouse.duck_home))
    rocus = [None, *read_reference_codes(warehouse)]
    assert len(rocus) > 5
    for rocu in rocus:
        with (
            open_published(settings, rocu) as on_postgres,
            on_duckdb_engine.open_published(rocu) as on_duckdb,
        ):
            for mart in PUBLIC_MARTS:
                what = f"{mart} ({rocu or 'national'})"
                assert columns(on_postgres, "marts", mart) == columns(on_duckdb, "marts", mart)
                expected = rows(on_duckdb, f"marts.{mart}")
                if rocu is None:
                    assert expected, f"{what} is empty: the comparison would prove nothing"
                assert_same_rows(expected, rows(on_postgres, f"marts.{mart}"), what)
            # The ledger as published, but for when and by which run (two runs made them).
            for table in ("batch_status", "load_batches"):
                same = ", ".join(
                    name
                    for name, kind in columns(on_duckdb, "audit", table)
                    if kind != "TIMESTAMP" and name != "run_id"
                )
                expected = rows(on_duckdb, f"(SELECT {same} FROM audit.{table})")
                assert expected == rows(on_postgres, f"(SELECT {same} FROM audit.{table})")


def read_reference_codes(warehouse: Warehouse) -> list[str]:
    with duckdb.connect(str(warehouse.duck_home / "warehouse.duckdb"), read_only=True) as con:
        return read_reference(con).rocus


def test_export_parquet_returns_the_same_rows_on_both_engines(warehouse, tmp_path):
    exported = {}
    for engine, home in (("duckdb", warehouse.duck_home), ("postgres", warehouse.pg_home)):
        out = tmp_path / f"{engine}.parquet"
        subprocess.run(
            [CLI, "export", "ocg_long_term_effect", "--format", "parquet", "--out", str(out)]
            + ["--home", str(home)],
            env=warehouse.env(engine),
            check=True,
            capture_output=True,
        )
        with duckdb.connect() as con:
            exported[engine] = rows(con, f"read_parquet('{out}')")
    assert exported["duckdb"]
    assert_same_rows(exported["duckdb"], exported["postgres"], "export ocg_long_term_effect")


def refused(connection: psycopg.Connection, sql: str) -> bool:
    try:
        connection.execute(sql)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


FORBIDDEN_TO_EVERY_READER = [
    "SELECT count(*) FROM raw.disruptions",
    "SELECT rationale FROM raw.disruptions",
    "SELECT count(*) FROM ledger.load_batches",
    "SELECT count(*) FROM build_marts.ocg_disruption_summary",
    "SELECT count(*) FROM build_staging.stg_disruptions",
    "INSERT INTO marts.ocg_disruption_summary (ocg_id) VALUES ('X')",
    "UPDATE marts.ocg_long_term_effect SET ocg_id = 'X'",
    "DELETE FROM marts.fct_disruption_claims",
    "TRUNCATE audit.batch_status",
    "CREATE TABLE marts.mine (x int)",
    "CREATE TABLE public.mine (x int)",
    "DROP TABLE marts.tactic_effectiveness",
    "ALTER TABLE marts.ocg_disruption_summary DISABLE ROW LEVEL SECURITY",
    f"SET ROLE {regional_role('SEROCU')}",
]


def test_the_national_reader_sees_every_published_row_and_nothing_else(warehouse):
    password = create_login(warehouse.port, "national_lead", READER_ROLE)
    with (
        psycopg.connect(warehouse.url("national_lead", password), autocommit=True) as lead,
        duckdb.connect(str(warehouse.duck_home / "published" / "disruptions.duckdb")) as duck,
    ):
        for mart in PUBLIC_MARTS:
            (count,) = lead.execute(f"SELECT count(*) FROM marts.{mart}").fetchone()
            assert count == duck.execute(f"SELECT count(*) FROM marts.{mart}").fetchone()[0]
        # The whole published audit, with the quarantined records cut to the feeds' columns.
        assert lead.execute("SELECT count(*) FROM audit.quarantine").fetchone()[0] > 0
        keys = lead.execute(
            "SELECT DISTINCT json_object_keys(record) FROM audit.quarantine "
            "WHERE json_typeof(record) = 'object'"
        ).fetchall()
        assert keys and not [key for (key,) in keys if "rationale" in key.lower()]
        for sql in FORBIDDEN_TO_EVERY_READER:
            assert refused(lead, sql), f"the national reader was allowed: {sql}"


def test_a_regional_reader_sees_only_its_rocus_rows(warehouse):
    password = create_login(warehouse.port, "emsou_lead", regional_role(REGION))
    regional_file = warehouse.duck_home / "published" / "regions" / f"{REGION}.duckdb"
    with (
        psycopg.connect(warehouse.url("emsou_lead", password), autocommit=True) as lead,
        duckdb.connect(str(regional_file), read_only=True) as duck,
    ):
        rocus = lead.execute("SELECT DISTINCT rocu FROM marts.ocg_disruption_summary").fetchall()
        assert rocus == [(REGION,)]
        for mart in PUBLIC_MARTS:
            (count,) = lead.execute(f"SELECT count(*) FROM marts.{mart}").fetchone()
            assert count == duck.execute(f"SELECT count(*) FROM marts.{mart}").fetchone()[0], mart
        outside = lead.execute(
            "SELECT count(*) FROM marts.fct_disruption_claims WHERE ocg_id NOT IN "
            "(SELECT ocg_id FROM marts.ocg_disruption_summary)"
        ).fetchone()[0]
        assert outside == 0
        # The ledger and batch status name no OCG; the quarantine and alerts can.
        assert lead.execute("SELECT count(*) FROM audit.batch_status").fetchone()[0] > 0
        for sql in [
            *FORBIDDEN_TO_EVERY_READER,
            "SELECT count(*) FROM audit.quarantine",
            "SELECT count(*) FROM audit.dq_alerts",
            "SELECT count(*) FROM audit.batch_validations",
            f"SET ROLE {READER_ROLE}",
        ]:
            assert refused(lead, sql), f"the {REGION} reader was allowed: {sql}"


SUMMARY = "build_marts.ocg_disruption_summary"
EFFECT = "build_marts.ocg_long_term_effect"


def test_a_reader_during_publication_sees_one_publication_never_an_error(warehouse, monkeypatch):
    """A reader queries in a loop while publication swaps in a different publication
    (the writer removes rows from the built summary between the two), then the original
    again: each answer is wholly one publication's."""
    settings = warehouse.settings(monkeypatch)
    engine = PostgresEngine(settings)
    password = create_login(warehouse.port, "busy_reader", READER_ROLE)
    query = (
        "SELECT (SELECT run_id FROM audit.publication), "
        "(SELECT count(*) FROM marts.ocg_disruption_summary), "
        "(SELECT count(*) FROM marts.ocg_long_term_effect)"
    )
    seen: set[tuple] = set()
    errors: list[str] = []
    stop = threading.Event()

    def read_continuously() -> None:
        with psycopg.connect(warehouse.url("busy_reader", password), autocommit=True) as reader:
            while not stop.is_set():
                try:
                    seen.add(reader.execute(query).fetchone())
                except psycopg.Error as error:
                    errors.append(str(error))

    with psycopg.connect(warehouse.writer_url, autocommit=True) as writer:
        before = writer.execute(query).fetchone()
        writer.execute("CREATE SCHEMA IF NOT EXISTS scratch")
        writer.execute("DROP TABLE IF EXISTS scratch.summary, scratch.effect")
        writer.execute(
            "CREATE TABLE scratch.summary AS SELECT * FROM build_marts.ocg_disruption_summary"
        )
        writer.execute(
            "CREATE TABLE scratch.effect AS SELECT * FROM build_marts.ocg_long_term_effect"
        )
        thread = threading.Thread(target=read_continuously)
        thread.start()
        try:
            time.sleep(0.3)
            with writer.transaction():
                writer.execute(
                    f"DELETE FROM build_marts.ocg_disruption_summary WHERE rocu = '{REGION}'"
                )
                writer.execute(
                    "DELETE FROM build_marts.ocg_long_term_effect WHERE ocg_id LIKE '%1'"
                )
            engine.publish("smaller-publication")
            smaller = writer.execute(query).fetchone()
            time.sleep(0.3)
            with writer.transaction():
                writer.execute(
                    "TRUNCATE build_marts.ocg_disruption_summary, build_marts.ocg_long_term_effect"
                )
                writer.execute(
                    "INSERT INTO build_marts.ocg_disruption_summary SELECT * FROM scratch.summary"
                )
                writer.execute(
                    "INSERT INTO build_marts.ocg_long_term_effect SELECT * FROM scratch.effect"
                )
            engine.publish("restored-publication")
            restored = writer.execute(query).fetchone()
            time.sleep(0.3)
        finally:
            stop.set()
            thread.join()
    assert not errors, errors[:3]
    assert smaller[1] < before[1] and smaller[2] < before[2]
    assert restored[1:] == before[1:]
    assert seen <= {before, smaller, restored}, seen - {before, smaller, restored}
    assert smaller in seen or restored in seen


def test_a_crash_mid_load_leaves_no_partial_batch(warehouse, settings, monkeypatch):
    """The load of the second feed fails after the first feed's rows were copied: the
    transaction keeps neither, and the next load brings every batch in whole."""
    from disruptions.engines import postgres
    from disruptions.ingest import ingest_landing

    with superuser(warehouse.port) as admin:
        admin.execute("CREATE DATABASE crash_test OWNER disruptions_writer")
    url = warehouse.url("disruptions_writer", warehouse.writer_password, "crash_test")
    monkeypatch.setenv("DISRUPTIONS_ENGINE", "postgres")
    monkeypatch.setenv("DISRUPTIONS_POSTGRES_URL", url)
    settings = load_settings(home=settings.home, landing=warehouse.landing)
    ingest_landing(settings, "crash-run")
    engine = PostgresEngine(settings)
    real_copy = postgres.copy_from_duckdb

    def copy_then_crash(duck, pg, select, parameters, target, tmp):
        copied = real_copy(duck, pg, select, parameters, target, tmp)
        if target == "raw.ocg_assessments":
            raise OSError("disk full (injected after the rows were copied)")
        return copied

    monkeypatch.setattr(postgres, "copy_from_duckdb", copy_then_crash)
    with pytest.raises(OSError, match="injected"):
        engine.load_validated_batches("crash-run", postgres_date())
    with psycopg.connect(url, autocommit=True) as pg:
        # The transaction took even the tables it created with it.
        for table in ("raw.disruptions", "raw.ocg_assessments", "ledger.engine_batches"):
            assert pg.execute("SELECT to_regclass(%s)", [table]).fetchone()[0] is None, table

    monkeypatch.setattr(postgres, "copy_from_duckdb", real_copy)
    loaded = engine.load_validated_batches("next-run", postgres_date())
    with (
        psycopg.connect(url, autocommit=True) as pg,
        duckdb.connect(str(settings.warehouse_path), read_only=True) as duck,
    ):
        ledger = duck.execute(
            "SELECT feed, sum(rows_loaded) FROM audit.load_batches "
            "WHERE status IN ('loaded', 'held') GROUP BY feed"
        ).fetchall()
        assert loaded["rows"] == sum(total for _, total in ledger) > 0
        for feed, total in ledger:
            assert pg.execute(f"SELECT count(*) FROM raw.{feed}").fetchone()[0] == total
            # The shared warehouse never receives the rationale.
            if feed == "disruptions":
                assert (
                    pg.execute(
                        "SELECT count(*) FROM raw.disruptions WHERE rationale IS NOT NULL"
                    ).fetchone()[0]
                    == 0
                )
    # Loading again finds nothing new: a batch is never loaded twice.
    assert engine.load_validated_batches("third-run", postgres_date())["batches"] == 0


def postgres_date():
    from datetime import date

    return date.fromisoformat(AS_OF)


def test_the_dbt_unit_tests_pass_on_postgres(warehouse, monkeypatch):
    from disruptions.transform.dbt import run_dbt

    settings = warehouse.settings(monkeypatch)
    result = run_dbt(settings, "test", "--select", "test_type:unit")
    summary = [line for line in result.stdout.splitlines() if "Done. PASS=" in line]
    assert summary and " ERROR=0 " in summary[0] and "PASS=0 " not in summary[0], summary


def test_a_query_reads_the_same_answer_copying_only_the_tables_it_names(warehouse, monkeypatch):
    from disruptions.serve.query import run_query

    sql = (
        "SELECT rocu, count(*), sum(net_disruption_score) FROM marts.ocg_disruption_summary "
        "GROUP BY rocu ORDER BY rocu"
    )
    on_duckdb = run_query(load_settings(home=warehouse.duck_home), sql, "csv")
    settings = warehouse.settings(monkeypatch)
    assert run_query(settings, sql, "csv") == on_duckdb
    with open_published(settings, named_in=sql) as con:
        copied = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
        ).fetchall()
    assert copied == [("marts.ocg_disruption_summary",)]
    # A query that names no published table (SHOW ALL TABLES, say) gets every table.
    listed = run_query(settings, "SELECT count(*) FROM information_schema.tables", "csv")
    # The marts, the seeds, the public audit tables, the batch status and the publication.
    every_table = len(PUBLIC_MARTS) + len(SEEDS) + len(PUBLISHED_AUDIT_TABLES) + 2
    assert listed.splitlines()[-1] == str(every_table)


def test_a_reader_holding_the_old_publication_does_not_hold_up_the_new(warehouse, monkeypatch):
    """A reader in a long transaction on the live marts: publication still swaps the new
    ones in, leaves the old tables to that reader, and the next publication drops them."""
    from disruptions.engines import postgres

    monkeypatch.setattr(postgres, "SWAP_LOCK_TIMEOUT", "1s")
    engine = PostgresEngine(warehouse.settings(monkeypatch))
    password = create_login(warehouse.port, "slow_reader", READER_ROLE)
    old_schema = "SELECT count(*) FROM pg_namespace WHERE nspname = 'marts__old'"
    with (
        psycopg.connect(warehouse.url("slow_reader", password)) as reader,
        psycopg.connect(warehouse.writer_url, autocommit=True) as writer,
    ):
        # Not autocommit: the reader's transaction keeps its lock on the tables it read.
        reader.execute("SELECT count(*) FROM marts.ocg_disruption_summary").fetchone()
        started = time.monotonic()
        engine.publish("while-someone-reads")
        assert time.monotonic() - started < 30
        live = writer.execute("SELECT run_id FROM audit.publication").fetchone()
        assert live == ("while-someone-reads",)
        assert writer.execute(old_schema).fetchone() == (1,)
        # The reader's next statement reads the new publication, without an error.
        assert reader.execute("SELECT count(*) FROM marts.ocg_disruption_summary").fetchone()
        reader.rollback()
        engine.publish("after-the-reader")
        assert writer.execute(old_schema).fetchone() == (0,)


def test_a_warehouse_loaded_from_another_ledger_is_refused(
    warehouse, reference_template, tmp_path, monkeypatch
):
    """Two working files whose batch ids name different files (a lost working file
    started again, say) cannot both load into one warehouse: the second is refused
    rather than have its batches silently skipped as already there."""
    import shutil

    from disruptions.errors import PipelineError
    from disruptions.ingest import ingest_landing
    from disruptions.synth import generate_feeds

    with superuser(warehouse.port) as admin:
        admin.execute("CREATE DATABASE two_ledgers OWNER disruptions_writer")
    url = warehouse.url("disruptions_writer", warehouse.writer_password, "two_ledgers")
    monkeypatch.setenv("DISRUPTIONS_ENGINE", "postgres")
    monkeypatch.setenv("DISRUPTIONS_POSTGRES_URL", url)
    monkeypatch.setenv("DISRUPTIONS_LANDING_SETTLE_SECONDS", "0")
    engines = []
    for seed in (1, 2):
        home = tmp_path / f"home-{seed}"
        home.mkdir()
        shutil.copyfile(reference_template / "warehouse.duckdb", home / "warehouse.duckdb")
        shutil.copytree(reference_template / "dbt_target", home / "dbt_target")
        generate_feeds(home / "landing", ocgs=20, disruptions=100, seed=seed, layout="single")
        settings = load_settings(home=home)
        ingest_landing(settings, f"run-{seed}")
        engines.append(PostgresEngine(settings))
    assert engines[0].load_validated_batches("first", postgres_date())["batches"] == 2
    with pytest.raises(PipelineError, match="batch 1 from another ledger"):
        engines[1].load_validated_batches("second", postgres_date())


def test_a_second_night_builds_incrementally_and_publishes_the_same_marts(warehouse, monkeypatch):
    # Nothing new, the same as_of: every incremental model takes its incremental path on
    # PostgreSQL (its touched sets, its post-hooks), and the marts must not move.
    run_night(warehouse.pg_home, warehouse.landing, warehouse.env("postgres"))
    settings = warehouse.settings(monkeypatch)
    last_build = read_last_build(settings)
    assert last_build["full_refresh"] is False, last_build
    assert_same_publications(warehouse, settings)
