"""The spark engine on a real Spark standalone cluster (a master and a worker started from
pyspark's own scripts on 127.0.0.1): the same sample run through the whole pipeline
(`disruptions run`, a real Airflow DAG run) gives the same marts as on DuckDB, nationally
and for every ROCU; export gives the same rows; the dbt unit tests pass on Spark; the
landed batches keep the ledger's rules (whole or absent, never twice, never the rationale,
never another ledger's).
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import pytest
import spark_cluster  # tests/ is on sys.path
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
from disruptions.engines.spark import SparkEngine
from disruptions.errors import PipelineError
from disruptions.reference import read_reference

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not spark_cluster.AVAILABLE, reason=spark_cluster.MISSING),
]


class SparkRun:
    def __init__(self, master: str, cluster_root: Path, sample: EngineSample) -> None:
        self.master = master
        self.cluster_root = cluster_root
        self.sample = sample
        self.home = sample.root / "spark-home"

    def env(self) -> dict[str, str]:
        return engine_env("spark", DISRUPTIONS_SPARK_MASTER=self.master)

    def settings(self, monkeypatch, home=None):
        for name, value in self.env().items():
            if name.startswith("DISRUPTIONS_"):
                monkeypatch.setenv(name, value)
        return load_settings(home=home or self.home, landing=self.sample.landing)


@pytest.fixture(scope="module")
def spark(engine_sample, tmp_path_factory) -> SparkRun:
    cluster_root = tmp_path_factory.mktemp("spark-cluster")
    with spark_cluster.spark_cluster(cluster_root) as master:
        run = SparkRun(master, cluster_root, engine_sample)
        run_night(run.home, engine_sample.landing, run.env())
        yield run


def test_the_same_sample_gives_the_same_marts_on_spark_as_on_duckdb(spark, monkeypatch):
    settings = spark.settings(monkeypatch)
    assert settings.engine == "spark"
    on_duckdb_engine = DuckDBEngine(load_settings(home=spark.sample.duck_home))
    with duckdb.connect(str(spark.sample.duck_home / "warehouse.duckdb"), read_only=True) as con:
        rocus = [None, *read_reference(con).rocus]
    assert len(rocus) > 5
    for rocu in rocus:
        with (
            open_published(settings, rocu) as on_spark,
            on_duckdb_engine.open_published(rocu) as on_duckdb,
        ):
            for mart in PUBLIC_MARTS:
                what = f"{mart} ({rocu or 'national'})"
                assert columns(on_spark, "marts", mart) == columns(on_duckdb, "marts", mart)
                expected = rows(on_duckdb, f"marts.{mart}")
                if rocu is None:
                    assert expected, f"{what} is empty: the comparison would prove nothing"
                assert_same_rows(expected, rows(on_spark, f"marts.{mart}"), what)


def test_the_marts_came_from_spark_and_the_cluster_ran_them(spark):
    """Not a DuckDB build in disguise: each mart's published rows are the Parquet files the
    cluster's executors wrote, and the master ran dbt's application."""
    engine = SparkEngine(load_settings(home=spark.home))
    published_file = str(spark.home / "published" / "disruptions.duckdb")
    with duckdb.connect(published_file, read_only=True) as pub, duckdb.connect() as parquet:
        for mart in PUBLIC_MARTS:
            files = sorted(engine.mart_folder(mart).glob("part-*.parquet"))
            assert files, mart
            written = parquet.execute(
                f"SELECT count(*) FROM read_parquet('{files[0].parent}/*.parquet')"
            )
            published = pub.execute(f"SELECT count(*) FROM marts.{mart}").fetchone()[0]
            assert written.fetchone()[0] == published
    master_log = (spark.cluster_root / "master.log").read_text()
    assert "Registering app disruptions-dbt" in master_log


def test_export_parquet_returns_the_same_rows_on_spark(spark, tmp_path):
    exported = {}
    for engine, home, env in (
        ("duckdb", spark.sample.duck_home, engine_env("duckdb")),
        ("spark", spark.home, spark.env()),
    ):
        out = tmp_path / f"{engine}.parquet"
        subprocess.run(
            [CLI, "export", "ocg_long_term_effect", "--format", "parquet", "--out", str(out)]
            + ["--home", str(home)],
            env=env,
            check=True,
            capture_output=True,
        )
        with duckdb.connect() as con:
            exported[engine] = rows(con, f"read_parquet('{out}')")
    assert exported["duckdb"]
    assert_same_rows(exported["duckdb"], exported["spark"], "export ocg_long_term_effect")


def test_the_dbt_unit_tests_pass_on_spark(spark, monkeypatch):
    from disruptions.transform.dbt import run_dbt

    result = run_dbt(spark.settings(monkeypatch), "test", "--select", "test_type:unit")
    summary = [line for line in result.stdout.splitlines() if "Done. PASS=" in line]
    assert summary and " ERROR=0 " in summary[0] and "PASS=0 " not in summary[0], summary


def test_landed_batches_are_whole_never_twice_and_never_hold_the_rationale(
    spark, monkeypatch, tmp_path
):
    """A crash while landing leaves no batch file but whole ones; the next load lands
    every batch, each exactly its ledger's rows; loading again lands nothing."""
    from disruptions.engines import spark as spark_module

    # The night's control plane, copied, landing into a warehouse folder of its own.
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(spark.home / "warehouse.duckdb", home / "warehouse.duckdb")
    monkeypatch.setenv("DISRUPTIONS_SPARK_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    settings = spark.settings(monkeypatch, home=home)
    engine = SparkEngine(settings)
    real_write = spark_module.SparkEngine._write_file
    written = []

    def write_then_crash(duck, select, path, expected_rows):
        real_write(duck, select, path, expected_rows)
        written.append(path)
        if len(written) == 5:
            raise OSError("disk full (injected after the fifth file)")

    monkeypatch.setattr(spark_module.SparkEngine, "_write_file", staticmethod(write_then_crash))
    with pytest.raises(OSError, match="injected"):
        engine.load_validated_batches("crash-run", date.fromisoformat(AS_OF))
    monkeypatch.setattr(spark_module.SparkEngine, "_write_file", staticmethod(real_write))
    loaded = engine.load_validated_batches("next-run", date.fromisoformat(AS_OF))

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as duck:
        ledger = duck.execute(
            "SELECT batch_id, feed, rows_loaded FROM audit.load_batches "
            "WHERE status IN ('loaded', 'held') AND feed IN ('disruptions', 'ocg_assessments')"
        ).fetchall()
    # The first file written was the schema carrier, then four batches landed whole.
    assert loaded["batches"] == len(ledger) - 4
    parquet = duckdb.connect()
    for feed in ("disruptions", "ocg_assessments"):
        landed = engine.landed_batches(feed)
        expected = {batch_id: rows for batch_id, f, rows in ledger if f == feed}
        assert set(landed) == set(expected)
        folder = engine.landed / "raw" / feed
        counts = dict(
            parquet.execute(
                f"SELECT batch_id, count(*) FROM read_parquet('{folder}/*.parquet') GROUP BY 1"
            ).fetchall()
        )
        # A header-only file is a batch of no rows: landed, with nothing to count.
        assert counts == {batch_id: rows for batch_id, rows in expected.items() if rows}
        assert not list(folder.glob(".*.tmp"))  # nothing left aside
    rationale = parquet.execute(
        f"SELECT count(rationale) FROM read_parquet('{engine.landed}/raw/disruptions/*.parquet')"
    ).fetchone()[0]
    assert rationale == 0
    assert engine.load_validated_batches("third-run", date.fromisoformat(AS_OF))["batches"] == 0

    # A batch id landed from another file (another working file's ledger) is refused.
    some_file = sorted((engine.landed / "raw" / "disruptions").glob("batch-*.parquet"))[0]
    some_file.rename(
        some_file.with_name(some_file.name.rsplit("-", 1)[0] + "-0123456789abcdef.parquet")
    )
    with pytest.raises(PipelineError, match="from another file than the control plane"):
        engine.load_validated_batches("fourth-run", date.fromisoformat(AS_OF))
