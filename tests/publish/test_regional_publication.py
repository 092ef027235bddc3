"""Regional publication through the real night's steps on a synthesised sample: each
ROCU's file holds its own OCGs and aggregates that name no OCG, never another region's
OCG id and never a rationale, and the commands that read it (query, report, explain
with --rocu) keep to it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from disruptions.config import load_settings
from disruptions.errors import PipelineError
from disruptions.ingest import ingest_landing
from disruptions.publish.marts import publish_marts
from disruptions.publish.regions import REGIONAL_ROWS
from disruptions.quality.batches import validate_new_batches
from disruptions.synth import DEFAULT_END_DATE, DISRUPTION_COLUMNS, generate_feeds
from disruptions.transform.build import build_marts
from disruptions.warehouse import open_warehouse

pytestmark = pytest.mark.slow

DISRUPTIONS = str(Path(sys.executable).parent / "disruptions")
TOKEN = re.compile(r"[A-Za-z0-9_-]+")


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    """One real night (ingest, batch validation, dbt build, publish) on 400 OCGs and
    5,000 claims, with the synthesiser's deliberately bad rows and files among them."""
    home = tmp_path_factory.mktemp("regional-home")
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("DISRUPTIONS_"):
                patch.delenv(name)
        patch.setenv("DISRUPTIONS_LANDING_SETTLE_SECONDS", "0")
        settings = load_settings(home=home, landing=home / "landing")
        settings.ensure_dirs()
        generate_feeds(settings.landing, ocgs=400, disruptions=5000, seed=11, with_bad_input=True)
        add_claim_in_another_region(settings.landing)
        ingest_landing(settings, "run-regions")
        validate_new_batches(settings, "run-regions")
        build_marts(settings, "run-regions", DEFAULT_END_DATE)
        publish_marts(settings, "run-regions")
    with open_warehouse(settings) as con:
        rationales = {
            text
            for (text,) in con.execute(
                "SELECT DISTINCT rationale FROM raw.disruptions WHERE rationale <> ''"
            ).fetchall()
        }
        quarantined = con.execute(
            "SELECT record FROM audit.quarantine WHERE record IS NOT NULL"
        ).fetchall()
    return {"settings": settings, "rationales": rationales, "quarantined": quarantined}


def add_claim_in_another_region(landing: Path) -> None:
    """The Met records an approved major claim against an OCG that EMSOU leads: it belongs
    to EMSOU's file (the OCG is theirs) and counts in MPS's monthly row (the area is)."""
    con = duckdb.connect()
    try:
        [(ocg_id,)] = con.execute(
            """
            SELECT ocg_id FROM read_csv($files, filename = true, all_varchar = true)
            GROUP BY ocg_id HAVING bool_and(filename LIKE '%/EMSOU/%')
            ORDER BY ocg_id LIMIT 1
            """,
            {"files": str(landing / "*" / "ocg_assessments_*.csv")},
        ).fetchall()
    finally:
        con.close()
    extra = landing / "LDNROCU" / "disruptions_LDNROCU_cross_border.csv"
    extra.write_text(
        ",".join(DISRUPTION_COLUMNS)
        + f"\nDIS-X-1,{ocg_id},2026-06-01,2026-06-02T10:00:00Z,major,pursue,arrest,MPS,MPS,"
        + "approved,Op BORDER,SENSITIVE: cross-border source\n",
        encoding="utf-8",
    )


def every_text_value(path: Path) -> dict[str, set[str]]:
    """schema.table -> every distinct text value of every VARCHAR or JSON column."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type IN ('VARCHAR', 'JSON')"
        ).fetchall()
        values: dict[str, set[str]] = {}
        for schema, table, column in columns:
            rows = con.execute(
                f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM "{schema}"."{table}" '
                f'WHERE "{column}" IS NOT NULL'
            ).fetchall()
            values.setdefault(f"{schema}.{table}", set()).update(value for (value,) in rows)
        return values
    finally:
        con.close()


def rows(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def ocg_regions(settings) -> dict[str, str | None]:
    """Every OCG id the national file knows (claims against never-assessed OCGs too),
    with its ROCU (None for an OCG never assessed)."""
    national = settings.published_path
    regions = dict(rows(national, "SELECT ocg_id, rocu FROM marts.ocg_disruption_summary"))
    for (ocg_id,) in rows(national, "SELECT DISTINCT ocg_id FROM marts.fct_disruption_claims"):
        regions.setdefault(ocg_id, None)
    return regions


def foreign_ocg_ids(text_values: dict[str, set[str]], foreign: set[str]) -> dict[str, set]:
    found = {}
    for table, values in text_values.items():
        hits = {token for value in values for token in TOKEN.findall(value)} & foreign
        if hits:
            found[table] = hits
    return found


def cli(settings, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DISRUPTIONS_")}
    env["DISRUPTIONS_HOME"] = str(settings.home)
    env["DISRUPTIONS_LANDING"] = str(settings.landing)
    return subprocess.run(
        [DISRUPTIONS, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_every_rocu_gets_a_file_holding_its_own_ocgs_and_no_other_regions(night):
    settings = night["settings"]
    regions = ocg_regions(settings)
    rocus = [
        code for (code,) in rows(settings.published_path, "SELECT rocu_code FROM reference.rocus")
    ]
    assert len(rocus) == 10
    assert sorted(path.stem for path in settings.regional_published_dir.glob("*.duckdb")) == sorted(
        rocus
    )
    assert None in regions.values()  # the sample has claims against never-assessed OCGs
    national = settings.published_path
    for rocu in rocus:
        path = settings.regional_published_path(rocu)
        own = {ocg for ocg, region in regions.items() if region == rocu}
        assert own, rocu
        foreign = set(regions) - own
        # No other region's OCG id (nor a never-assessed OCG's) anywhere in the file.
        assert foreign_ocg_ids(every_text_value(path), foreign) == {}, rocu

        # Its OCGs' rows are exactly the national rows about them ...
        for mart in (
            "ocg_disruption_summary",
            "ocg_long_term_effect",
            "fct_ocg_effect_evidence",
            "fct_disruption_claims",
            "dim_ocg_assessment_history",
        ):
            sql = f"SELECT * FROM marts.{mart} WHERE ocg_id IN (SELECT unnest($1)) ORDER BY ALL"
            regional = rows(path, f"SELECT * FROM marts.{mart} ORDER BY ALL")
            assert regional == rows(national, sql, [sorted(own)]), (rocu, mart)
        # ... including the claims against them recorded in other regions' force areas,
        claim_areas = {
            area for (area,) in rows(path, "SELECT force_area FROM marts.fct_disruption_claims")
        }
        forces = {
            f
            for (f,) in rows(
                path, "SELECT force_code FROM reference.forces WHERE rocu_code = ?", [rocu]
            )
        }
        if rocu == "EMSOU":
            assert claim_areas - forces == {"MPS"}
        else:
            assert claim_areas <= forces, rocu
        # and the aggregates are the national rows of its own forces, counting every
        # disruption in their areas, whichever region's OCG it was against.
        for mart in ("disruptions_monthly", "rocu_force_balance"):
            regional = rows(path, f"SELECT * FROM marts.{mart} ORDER BY ALL")
            assert regional
            assert regional == rows(
                national, f"SELECT * FROM marts.{mart} WHERE rocu = ? ORDER BY ALL", [rocu]
            )
        assert rows(path, "SELECT * FROM marts.tactic_effectiveness ORDER BY ALL") == rows(
            national, "SELECT * FROM marts.tactic_effectiveness ORDER BY ALL"
        )
        tables = {table for table in every_text_value(path)}
        assert "audit.quarantine" not in tables and "audit.dq_alerts" not in tables


def test_no_rationale_leaves_the_raw_layer_in_any_published_file(night):
    settings = night["settings"]
    rationales = night["rationales"]
    assert len(rationales) > 100
    # The quarantine keeps rows that carried a rationale; the published copy drops it.
    assert any("rationale" in record.lower() for (record,) in night["quarantined"])
    files = [settings.published_path, *settings.regional_published_dir.glob("*.duckdb")]
    assert len(files) == 11
    for path in files:
        for table, values in every_text_value(path).items():
            leaked = {value for value in values if any(r in value for r in rationales)}
            assert not leaked, (path.name, table, sorted(leaked)[:3])
            assert not any("SENSITIVE" in value for value in values), (path.name, table)


def test_a_mart_without_a_regional_rule_is_not_published_to_any_region(night, tmp_path):
    settings = dataclasses.replace(night["settings"], home=tmp_path / "copy")
    settings.ensure_dirs()
    settings.warehouse_path.write_bytes(night["settings"].warehouse_path.read_bytes())
    with open_warehouse(settings) as con:
        con.execute("CREATE TABLE marts.ocg_watchlist AS SELECT 'OCG-000001' AS ocg_id")
    assert "ocg_watchlist" not in REGIONAL_ROWS
    with pytest.raises(PipelineError, match="no regional rule for marts ocg_watchlist"):
        publish_marts(settings, "run-new-mart")
    # Checked before any file was written: neither the national file nor a regional one.
    assert not settings.published_path.exists()
    assert not list(settings.regional_published_dir.glob("*.duckdb"))


def test_regional_commands_read_only_their_region(night):
    settings = night["settings"]
    regions = ocg_regions(settings)
    own = sorted(ocg for ocg, region in regions.items() if region == "EMSOU")
    elsewhere = sorted(ocg for ocg, region in regions.items() if region not in (None, "EMSOU"))

    explained = cli(settings, "explain", own[0], "--rocu", "EMSOU", "--format", "json")
    assert explained.returncode == 0, explained.stderr
    explanation = json.loads(explained.stdout)
    assert explanation["summary"]["rocu"] == "EMSOU"
    assert explanation["claims"] and all(
        "rationale" not in claim for claim in explanation["claims"]
    )

    refused = cli(settings, "explain", elsewhere[0], "--rocu", "EMSOU")
    assert refused.returncode != 0
    assert f"no OCG '{elsewhere[0]}' in EMSOU's published file" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1

    national = cli(settings, "explain", elsewhere[0])
    assert national.returncode == 0 and f"OCG {elsewhere[0]}" in national.stdout

    queried = cli(settings, "query", "--rocu", "emsou", "--format", "csv",
                  "SELECT DISTINCT rocu FROM marts.ocg_disruption_summary")  # fmt: skip
    assert queried.returncode == 0, queried.stderr
    assert queried.stdout.split() == ["rocu", "EMSOU"]

    reported = cli(settings, "report", "--rocu", "EMSOU")
    assert reported.returncode == 0, reported.stderr
    html = settings.regional_report_path("EMSOU").read_text(encoding="utf-8")
    assert own[0] in html or any(ocg in html for ocg in own)
    assert not {token for token in TOKEN.findall(html)} & (set(regions) - set(own))

    for hostile in ("../disruptions", "EMSOU/../../published/disruptions", "emsou;x"):
        result = cli(settings, "query", "--rocu", hostile, "SELECT 1")
        assert result.returncode != 0
        assert "is not a ROCU code" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_explain_agrees_with_the_marts_it_explains(night):
    settings = night["settings"]
    national = settings.published_path
    [(ocg_id, total, score)] = rows(
        national,
        "SELECT s.ocg_id, s.total_disruptions, s.net_disruption_score "
        "FROM marts.ocg_disruption_summary s JOIN marts.ocg_long_term_effect e USING (ocg_id) "
        "WHERE e.effect_12m IN ('reduced', 'no_change', 'strengthened') "
        "ORDER BY s.total_disruptions DESC, s.ocg_id LIMIT 1",
    )
    result = cli(settings, "explain", ocg_id, "--format", "json")
    assert result.returncode == 0, result.stderr
    explanation = json.loads(result.stdout)
    claims = explanation["claims"]
    counted = [c for c in claims if c["outcome"] == "counted" and c["impact"] != "none"]
    assert len(counted) == total
    weights = explanation["weights"]
    assert sum(weights[c["impact"]] for c in counted) == pytest.approx(score)
    assert (
        sum(explanation["claim_outcomes"].values())
        == len(claims)
        == rows(
            national, "SELECT count(*) FROM marts.fct_disruption_claims WHERE ocg_id = ?", [ocg_id]
        )[0][0]
    )
    # The assessment marked as each horizon's baseline and score is the one the evidence used.
    for horizon in explanation["effect_evidence"]:
        months = horizon["horizon_months"]
        marked = {a["assessed_on"]: a["used_for"] for a in explanation["assessments"]}
        assert f"baseline ({months}m)" in marked[horizon["baseline_assessed_on"]]
        if horizon["horizon_assessed_on"] is not None:
            assert f"score at {months} months" in marked[horizon["horizon_assessed_on"]]
        assert horizon["rule"].startswith(f"rule {horizon['effect_rule']}: ")
    assert "rationale" not in result.stdout.lower() and "SENSITIVE" not in result.stdout

    text = cli(settings, "explain", f"  {ocg_id} ")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith(f"OCG {ocg_id} (as of 2026-10-31)")
    assert f"net disruption score {score}" in text.stdout or f"net disruption score {score:g}" in (
        text.stdout
    )
    assert "decided by rule" in text.stdout

    unknown = cli(settings, "explain", "OCG-\x1b[31mNOPE")
    assert unknown.returncode != 0 and "\x1b" not in unknown.stderr
    assert "no OCG" in unknown.stderr and len(unknown.stderr.strip().splitlines()) == 1
    bad_format = cli(settings, "explain", ocg_id, "--format", "xml")
    assert bad_format.returncode != 0
