"""The reference seeds and the warehouse foundation every other part relies on."""

import csv
import multiprocessing
import time

import duckdb

from disruptions.config import SEEDS_DIR
from disruptions.warehouse import open_warehouse, writer_lock


def read_seed(name):
    with open(SEEDS_DIR / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_seeds_list_the_ten_rocus_and_44_forces_each_in_a_known_rocu():
    rocus = {row["rocu_code"] for row in read_seed("rocus.csv")}
    forces = read_seed("forces.csv")
    assert len(rocus) == 10
    assert len(forces) == 44  # 43 territorial forces plus BTP
    assert {row["rocu_code"] for row in forces} == rocus
    assert {row["force_code"] for row in forces if row["rocu_code"] == "LDNROCU"} == {
        "MPS",
        "CITYLDN",
        "BTP",
    }


def test_impact_weights_are_the_spec_defaults():
    weights = {row["impact"]: int(row["weight"]) for row in read_seed("impact_levels.csv")}
    assert weights == {"major": 3, "moderate": 2, "minor": 1, "none": 0, "negative": -2}


def test_band_ranks_are_unique_and_start_at_one():
    ranks = [int(row["rank"]) for row in read_seed("ocg_bands.csv")]
    assert sorted(ranks) == list(range(1, len(ranks) + 1))


def test_open_warehouse_creates_raw_and_audit_tables(settings):
    with open_warehouse(settings) as con:
        tables = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
            ).fetchall()
        }
    assert {"raw.disruptions", "raw.ocg_assessments", "audit.load_batches"} <= tables
    assert {"audit.quarantine", "audit.dq_alerts", "audit.batch_decisions"} <= tables


def _hold_lock_then_write(settings, started, delay):
    with writer_lock(settings):
        started.set()
        time.sleep(delay)
        con = duckdb.connect(str(settings.warehouse_path))
        con.execute("CREATE TABLE IF NOT EXISTS lock_probe (who VARCHAR)")
        con.execute("INSERT INTO lock_probe VALUES ('child')")
        con.close()


def test_a_second_writer_waits_for_the_first_instead_of_failing(settings):
    started = multiprocessing.Event()
    child = multiprocessing.Process(target=_hold_lock_then_write, args=(settings, started, 1.0))
    child.start()
    assert started.wait(10)
    with open_warehouse(settings) as con:  # would raise a DuckDB lock error without the lock
        con.execute("CREATE TABLE IF NOT EXISTS lock_probe (who VARCHAR)")
        con.execute("INSERT INTO lock_probe VALUES ('parent')")
        order = [row[0] for row in con.execute("SELECT who FROM lock_probe").fetchall()]
    child.join(10)
    assert order == ["child", "parent"]


def test_the_writer_lock_is_reentrant_within_a_process(settings):
    with writer_lock(settings), writer_lock(settings, timeout_seconds=0.5):
        pass


def test_home_is_honoured_before_or_after_the_command(tmp_path):
    from disruptions.cli import build_parser

    parser = build_parser()
    before = parser.parse_args(["--home", str(tmp_path), "status"])
    after = parser.parse_args(["status", "--home", str(tmp_path)])
    neither = parser.parse_args(["status"])
    assert before.home == after.home == str(tmp_path)
    assert neither.home is None


def test_warehouse_connections_cap_duckdb_memory_from_the_environment(settings, monkeypatch):
    from disruptions.config import load_settings

    monkeypatch.setenv("DISRUPTIONS_DUCKDB_MEMORY_LIMIT", "700MB")
    capped = load_settings()
    with open_warehouse(capped) as con:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit == "667.5 MiB"  # DuckDB reports 700 MB in MiB
