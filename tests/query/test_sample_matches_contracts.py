"""The readers' sample published file has exactly the columns the dbt mart contracts promise,
so the query, export and report tests exercise the shape the real pipeline publishes."""

from __future__ import annotations

import duckdb
import pytest
import yaml

from disruptions.config import DBT_PROJECT_DIR

MART_YAML = sorted((DBT_PROJECT_DIR / "models" / "marts").glob("*.yml"))


def _contracts():
    for path in MART_YAML:
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models", []):
            yield (
                model["name"],
                [
                    (column["name"], str(column.get("data_type", "")).lower())
                    for column in model.get("columns", [])
                ],
            )


@pytest.mark.parametrize(("mart", "columns"), list(_contracts()))
def test_sample_mart_has_the_contracted_columns_and_types(published_sample_file, mart, columns):
    con = duckdb.connect(str(published_sample_file), read_only=True)
    try:
        actual = con.execute(
            "SELECT column_name, lower(data_type) FROM information_schema.columns "
            "WHERE table_schema = 'marts' AND table_name = ? ORDER BY ordinal_position",
            [mart],
        ).fetchall()
    finally:
        con.close()
    assert actual == columns


def test_every_mart_the_readers_use_has_a_contract():
    marts = {name for name, _ in _contracts()}
    assert {
        "ocg_disruption_summary",
        "ocg_long_term_effect",
        "disruptions_monthly",
        "tactic_effectiveness",
        "rocu_force_balance",
        "dim_ocg_assessment_history",
    } <= marts
