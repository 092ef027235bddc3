"""The readers' sample published file has exactly the shape the pipeline publishes (the
dbt mart contracts, the published audit tables, the batch-status model, the seeds typed as
dbt types them) and figures that agree with one another as the real marts' do, so the
query, export, report and explain tests exercise what the real pipeline publishes.
(test_readers_on_real_marts.py compares the sample's shape with a real publication.)"""

from __future__ import annotations

import csv

import duckdb
import pytest
import yaml
from published_sample import seed_column_types

from disruptions.config import DBT_PROJECT_DIR, PUBLIC_MARTS, SEEDS_DIR
from disruptions.publish.marts import PUBLISHED_AUDIT_TABLES
from disruptions.reference import SEEDS
from disruptions.serve.glossary import contract_type
from disruptions.warehouse import AUDIT_DDL

MART_YAML = sorted((DBT_PROJECT_DIR / "models" / "marts").glob("*.yml"))
BATCH_STATUS_YAML = DBT_PROJECT_DIR / "models" / "staging" / "stg_load_batches.yml"
ROCUS = ("EMSOU", "NWROCU", "TARIAN")


def _contracts():
    for path in MART_YAML:
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models", []):
            yield (
                model["name"],
                [
                    (column["name"], contract_type(column.get("data_type")).lower())
                    for column in model.get("columns", [])
                ],
            )


def _columns(path, schema: str, table: str) -> list[tuple[str, str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "SELECT column_name, lower(data_type) FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, table],
        ).fetchall()
    finally:
        con.close()


def _sql(path, query: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(query, params or []).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize(("mart", "columns"), list(_contracts()))
def test_sample_mart_has_the_contracted_columns_and_types(published_sample_file, mart, columns):
    assert columns, f"{mart} has no contracted columns"
    assert _columns(published_sample_file, "marts", mart) == columns


def test_the_sample_has_every_public_mart_and_each_has_a_contract(published_sample_file):
    contracted = {name for name, _ in _contracts()}
    published = {
        name
        for (name,) in _sql(
            published_sample_file,
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'",
        )
    }
    assert published == set(PUBLIC_MARTS) == contracted


def test_reference_tables_are_the_seeds_typed_as_dbt_types_them(published_sample_file):
    types = seed_column_types()
    for seed in SEEDS:
        with open(SEEDS_DIR / f"{seed}.csv", newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header, rows = reader.fieldnames, list(reader)
        assert _columns(published_sample_file, "reference", seed) == [
            (column, types[seed][column].lower()) for column in header
        ], seed
        first = header[0]
        assert [
            value
            for (value,) in _sql(published_sample_file, f"SELECT {first} FROM reference.{seed}")
        ] == [row[first] for row in rows], f"{seed}: the CSV's rows, in its order"


def test_batch_status_has_the_columns_of_the_batch_status_model(published_sample_file):
    model = yaml.safe_load(BATCH_STATUS_YAML.read_text(encoding="utf-8"))["models"][0]
    assert [name for name, _ in _columns(published_sample_file, "audit", "batch_status")] == [
        column["name"] for column in model["columns"]
    ]
    # Batch 6 was held and then discarded by the steward; only loaded batches count.
    assert _sql(
        published_sample_file,
        "SELECT batch_id, batch_status, is_counted_in_marts FROM audit.batch_status "
        "WHERE batch_status <> 'loaded' OR NOT is_counted_in_marts ORDER BY batch_id",
    ) == [(4, "duplicate_file", False), (5, "rejected_file", False), (6, "discarded", False)]


def test_audit_tables_are_the_published_ones_with_the_warehouse_columns(published_sample_file):
    warehouse = duckdb.connect()
    warehouse.execute("CREATE SCHEMA audit")
    for statement in AUDIT_DDL:
        warehouse.execute(statement)
    published = {
        name
        for (name,) in _sql(
            published_sample_file,
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'audit'",
        )
    }
    assert published == {*PUBLISHED_AUDIT_TABLES, "batch_status"}
    for table in PUBLISHED_AUDIT_TABLES:
        expected = warehouse.execute(
            "SELECT column_name, lower(data_type) FROM information_schema.columns "
            "WHERE table_schema = 'audit' AND table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        assert _columns(published_sample_file, "audit", table) == expected, table
    warehouse.close()


# --- the figures agree with one another, as dbt's tests make the real ones -----------------


def test_counted_claims_recount_every_figure_of_the_summary(published_sample_file):
    # dbt_project/tests/assert_summary_recounts_from_counted_claims.sql, on the sample.
    differing = _sql(
        published_sample_file,
        """
        WITH recount AS (
            SELECT c.ocg_id,
                   count(*) FILTER (WHERE outcome = 'counted' AND c.impact = 'major') AS major,
                   count(*) FILTER (WHERE outcome = 'counted' AND c.impact = 'none') AS none,
                   count(*) FILTER (WHERE outcome = 'counted' AND l.is_disruption) AS total,
                   count(*) FILTER (WHERE outcome = 'pending') AS pending,
                   coalesce(sum(l.weight) FILTER (WHERE outcome = 'counted'), 0) AS net,
                   min(disruption_date) FILTER (WHERE outcome = 'counted' AND l.is_disruption)
                       AS first_date
            FROM marts.fct_disruption_claims c
            JOIN reference.impact_levels l USING (impact)
            GROUP BY c.ocg_id
        )
        SELECT s.ocg_id FROM marts.ocg_disruption_summary s
        FULL JOIN recount r USING (ocg_id)
        WHERE (s.major_count, s.none_count, s.total_disruptions, s.pending_claims,
               s.net_disruption_score, s.first_disruption_date)
              IS DISTINCT FROM (coalesce(r.major, 0), coalesce(r.none, 0),
                                coalesce(r.total, 0), coalesce(r.pending, 0),
                                coalesce(r.net, 0), r.first_date)
        """,
    )
    assert differing == []
    outcomes = dict(
        _sql(
            published_sample_file,
            "SELECT outcome, count(*) FROM marts.fct_disruption_claims GROUP BY outcome",
        )
    )
    # Every outcome a reader may meet, except held_batch (no batch awaits review).
    assert set(outcomes) == {
        "counted",
        "pending",
        "superseded",
        "withdrawn",
        "rejected",
        "discarded_batch",
    }


def test_monthly_counts_and_balance_recount_the_same_claims(published_sample_file):
    total, net = _sql(
        published_sample_file,
        "SELECT sum(total_disruptions), sum(net_disruption_score) "
        "FROM marts.ocg_disruption_summary",
    )[0]
    assert _sql(
        published_sample_file,
        "SELECT sum(claim_count) FILTER (WHERE is_disruption), sum(net_disruption_score) "
        "FROM marts.disruptions_monthly",
    )[0] == (total, net)
    by_force = dict(
        _sql(
            published_sample_file,
            "SELECT force_area, count(*) FROM marts.fct_disruption_claims "
            "JOIN reference.impact_levels USING (impact) WHERE outcome = 'counted' "
            "AND is_disruption AND disruption_date > DATE '2025-06-30' GROUP BY ALL",
        )
    )
    balance = _sql(
        published_sample_file,
        "SELECT force_code, disruptions_12m, effort_gap, disruption_share - active_ocg_share "
        "FROM marts.rocu_force_balance",
    )
    assert {force: count for force, count, _, _ in balance if count} == by_force
    assert all(gap == pytest.approx(expected) for _, _, gap, expected in balance if gap)


def test_effect_evidence_is_the_evidence_of_the_effect_mart(published_sample_file):
    rows = _sql(
        published_sample_file,
        """
        SELECT e.ocg_id, v.horizon_months, v.effect,
               CASE v.horizon_months WHEN 6 THEN e.effect_6m ELSE e.effect_12m END,
               v.pct_change IS NOT DISTINCT FROM
                   CASE v.horizon_months WHEN 6 THEN e.pct_change_6m ELSE e.pct_change_12m END,
               v.baseline_date = e.baseline_date, v.baseline_score IS NOT DISTINCT FROM
               e.baseline_score
        FROM marts.ocg_long_term_effect e
        FULL JOIN marts.fct_ocg_effect_evidence v USING (ocg_id)
        """,
    )
    assert rows and len(rows) == 2 * len({row[0] for row in rows})
    assert all(row[2] == row[3] and all(row[4:]) for row in rows)
    effects = {row[2] for row in rows}
    assert effects == {
        "dismantled",
        "reduced",
        "no_change",
        "strengthened",
        "not_reassessed",
        "insufficient_baseline",
        "too_early",
    }
    assert _sql(
        published_sample_file, "SELECT DISTINCT tolerance FROM marts.fct_ocg_effect_evidence"
    ) == [(0.1,)]
    assert _sql(
        published_sample_file,
        "SELECT count(*) FROM marts.tactic_effectiveness "
        "WHERE ocgs_measured_12m <> ocgs_targeted - too_early_12m",
    ) == [(0,)]


# --- the regional files: publication's own cut of the sample --------------------------------


@pytest.mark.parametrize("rocu", ROCUS)
def test_each_regional_file_holds_only_its_rocus_ocgs_and_no_national_only_table(
    published_sample_file, rocu
):
    regional = published_sample_file.parent / "regions" / f"{rocu}.duckdb"
    own = {
        ocg
        for (ocg,) in _sql(
            published_sample_file,
            "SELECT ocg_id FROM marts.ocg_disruption_summary WHERE rocu = ?",
            [rocu],
        )
    }
    assert own
    for mart in ("ocg_disruption_summary", "fct_disruption_claims", "ocg_long_term_effect"):
        found = {ocg for (ocg,) in _sql(regional, f"SELECT DISTINCT ocg_id FROM marts.{mart}")}
        assert found and found <= own, mart
    assert _sql(regional, "SELECT DISTINCT rocu FROM marts.rocu_force_balance") == [(rocu,)]
    tables = set(
        _sql(
            regional,
            "SELECT schema_name, table_name FROM duckdb_tables() "
            "WHERE schema_name IN ('audit', 'reference')",
        )
    )
    assert {table for schema, table in tables if schema == "audit"} == {
        "load_batches",
        "batch_status",
        "pipeline_runs",
        "dbt_test_results",
    }
    assert {table for schema, table in tables if schema == "reference"} == set(SEEDS)
