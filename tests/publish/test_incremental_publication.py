"""Publication brings the big marts of each published file up to date row by row
(publish/incremental.py): after a second night with new claims, amendments, re-assessments,
one OCG moved to another region and a new as_of, every published file must hold exactly
what a full copy of the same warehouse writes."""

from __future__ import annotations

import logging
import os
import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from disruptions.config import load_settings
from disruptions.ingest import ingest_landing
from disruptions.publish.incremental import (
    SYNCED_MART_KEYS,
    attach_digests,
    build_digest,
    detach_digests,
)
from disruptions.publish.marts import publish_marts
from disruptions.publish.regions import OCG_REGION, REGIONAL_ROWS
from disruptions.quality.batches import validate_new_batches
from disruptions.reference import read_reference
from disruptions.synth import DEFAULT_END_DATE, generate_feeds, generate_increment
from disruptions.transform.build import build_marts
from disruptions.warehouse import open_warehouse

pytestmark = pytest.mark.slow

OCGS, DISRUPTIONS, SEED = 300, 3000, 5


def run_night(settings, run_id: str, as_of) -> None:
    ingest_landing(settings, run_id)
    validate_new_batches(settings, run_id)
    build_marts(settings, run_id, as_of)
    publish_marts(settings, run_id)


def published(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def move_an_ocg_to_another_region(settings, night) -> tuple[str, str, str]:
    """A re-assessment on `night` naming a lead force of another ROCU; returns the OCG,
    its ROCU before and after."""
    ocg_id, rocu = published(
        settings.published_path,
        "SELECT ocg_id, rocu FROM marts.ocg_disruption_summary s WHERE rocu IS NOT NULL "
        "AND EXISTS (SELECT 1 FROM marts.fct_disruption_claims c WHERE c.ocg_id = s.ocg_id) "
        "ORDER BY ocg_id LIMIT 1",
    )[0]
    force, new_rocu = ("GMP", "NWROCU") if rocu != "NWROCU" else ("DERBYS", "EMSOU")
    (settings.landing / "ocg_assessments_moved.csv").write_text(
        "ocg_id,assessed_on,threat_score,band,status,archive_reason,lead_force\n"
        f"{ocg_id},{night.isoformat()},40,2A,active,,{force}\n",
        encoding="utf-8",
    )
    return ocg_id, rocu, new_rocu


@pytest.fixture(scope="module")
def two_nights(tmp_path_factory):
    home = tmp_path_factory.mktemp("incremental-publication")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.INFO)
    publication_log = logging.getLogger("disruptions.publish.incremental")
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("DISRUPTIONS_"):
                patch.delenv(name)
        patch.setenv("DISRUPTIONS_LANDING_SETTLE_SECONDS", "0")
        settings = load_settings(home=home / "home", landing=home / "landing")
        settings.ensure_dirs()
        generate_feeds(settings.landing, ocgs=OCGS, disruptions=DISRUPTIONS, seed=SEED)
        run_night(settings, "run-1", DEFAULT_END_DATE)

        night = DEFAULT_END_DATE + timedelta(days=1)
        generate_increment(
            settings.landing,
            base_ocgs=OCGS,
            base_disruptions=DISRUPTIONS,
            seed=SEED,
            fraction=0.05,
            end_date=DEFAULT_END_DATE,
        )
        moved = move_an_ocg_to_another_region(settings, night)
        publication_log.addHandler(handler)
        publication_log.setLevel(logging.INFO)
        try:
            run_night(settings, "run-2", night)
        finally:
            publication_log.removeHandler(handler)

        # The same warehouse published whole, in a home with no earlier publication.
        full = load_settings(home=home / "full", landing=home / "landing")
        full.ensure_dirs()
        shutil.copyfile(settings.warehouse_path, full.warehouse_path)
        publish_marts(full, "run-2-full")
    return {"settings": settings, "full": full, "moved": moved, "records": records}


def published_files(settings) -> dict[str, Path]:
    files = {"national": settings.published_path}
    files.update({path.stem: path for path in settings.regional_published_dir.glob("*.duckdb")})
    return files


def test_every_published_file_equals_a_full_copy_after_a_changed_night(two_nights):
    incremental = published_files(two_nights["settings"])
    full = published_files(two_nights["full"])
    assert sorted(incremental) == sorted(full) and len(full) == 11
    for name, path in full.items():
        tables = published(
            path,
            "SELECT table_schema || '.' || table_name FROM information_schema.tables ORDER BY 1",
        )
        assert published(incremental[name], "SELECT table_schema || '.' || table_name "
                         "FROM information_schema.tables ORDER BY 1") == tables  # fmt: skip
        for (table,) in tables:
            if table == "audit.pipeline_runs":
                continue  # the full copy was published by another run, later
            columns = f"SELECT column_name, data_type FROM information_schema.columns WHERE table_schema || '.' || table_name = '{table}' ORDER BY ordinal_position"  # noqa: E501
            assert published(incremental[name], columns) == published(path, columns), table
            rows = f"SELECT * FROM {table} ORDER BY ALL"
            assert published(incremental[name], rows) == published(path, rows), (name, table)


def test_the_big_marts_were_brought_up_to_date_not_copied(two_nights):
    synced = [record.getMessage() for record in two_nights["records"]]
    # The national file and the ten regional ones, each with both big marts.
    assert sum('"fct_disruption_claims" brought up to date' in line for line in synced) == 11
    assert sum('"dim_ocg_assessment_history" brought up to date' in line for line in synced) == 11
    national_claims = next(
        line
        for line in synced
        if '"fct_disruption_claims"' in line and f"of {published_count(two_nights)} rows" in line
    )
    replaced = int(national_claims.split(", ")[1].split(" of ")[0])
    assert 0 < replaced < published_count(two_nights) / 2


def published_count(two_nights) -> int:
    return published(
        two_nights["settings"].published_path, "SELECT count(*) FROM marts.fct_disruption_claims"
    )[0][0]


def test_an_ocg_that_moved_region_moved_between_the_regional_files(two_nights):
    ocg_id, before, after = two_nights["moved"]
    files = published_files(two_nights["settings"])
    claims = "SELECT count(*) FROM marts.fct_disruption_claims WHERE ocg_id = '{}'".format
    assert published(files[before], claims(ocg_id)) == [(0,)]
    assert published(files[after], claims(ocg_id))[0][0] > 0
    # And every file holds one as_of_date, the second night's.
    for path in files.values():
        assert published(path, "SELECT DISTINCT as_of_date FROM marts.fct_disruption_claims") == [
            (DEFAULT_END_DATE + timedelta(days=1),)
        ]


def test_each_digest_row_is_tagged_with_the_region_whose_file_takes_it(two_nights):
    """The digest's region column (OCG_REGION) is the regional rule (OCG_OWNED) as a column:
    every ROCU's slice of it holds exactly the keys its file's rows have."""
    settings = two_nights["settings"]
    with open_warehouse(settings) as con:
        attach_digests(con)
        try:
            for mart, key in SYNCED_MART_KEYS.items():
                digest = build_digest(con, f"marts.{mart}", key, OCG_REGION)
                key_list = ", ".join(key)
                regions = 0
                for rocu in read_reference(con).rocus:
                    sliced = con.execute(
                        f"SELECT {key_list} FROM {digest} WHERE region = $rocu ORDER BY ALL",
                        {"rocu": rocu},
                    ).fetchall()
                    ruled = con.execute(
                        f"SELECT {key_list} FROM marts.{mart} WHERE {REGIONAL_ROWS[mart]} "
                        "ORDER BY ALL",
                        {"rocu": rocu},
                    ).fetchall()
                    assert sliced == ruled, (mart, rocu)
                    regions += bool(ruled)
                assert regions >= 5, mart  # the sample spreads its OCGs over the regions
                (whole,) = con.execute(f"SELECT count(*) FROM marts.{mart}").fetchone()
                assert con.execute(f"SELECT count(*) FROM {digest}").fetchone() == (whole,)
        finally:
            detach_digests(con)


def test_a_synced_mart_cut_by_another_rule_hashes_its_own_rows(
    two_nights, tmp_path, monkeypatch, caplog
):
    """Only a mart cut by region through its OCG has a digest (regions.region_column). A
    synced mart with another rule, here the monthly counts (no ocg_id; cut by the ROCU of
    their force), is brought up to date from its own rows, and every file still equals a
    full copy."""
    source = two_nights["settings"]
    settings = load_settings(home=tmp_path / "home", landing=source.landing)
    settings.ensure_dirs()
    shutil.copyfile(source.warehouse_path, settings.warehouse_path)
    shutil.copytree(source.published_dir, settings.published_dir, dirs_exist_ok=True)
    monthly_key = ("disruption_month", "force_area", "lead_agency", "strand", "tactic", "impact")
    monkeypatch.setitem(SYNCED_MART_KEYS, "disruptions_monthly", monthly_key)
    assert REGIONAL_ROWS["disruptions_monthly"] == "rocu = $rocu"

    caplog.set_level(logging.INFO, logger="disruptions.publish.incremental")
    publish_marts(settings, "run-2-again")

    synced = [record.getMessage() for record in caplog.records]
    assert sum('"disruptions_monthly" brought up to date' in line for line in synced) == 11
    full = published_files(two_nights["full"])
    again = published_files(settings)
    assert sorted(again) == sorted(full)
    for name, path in full.items():
        for table in ("marts.disruptions_monthly", "marts.fct_disruption_claims"):
            rows = f"SELECT * FROM {table} ORDER BY ALL"
            assert published(again[name], rows) == published(path, rows), (name, table)
        if name != "national":
            assert published(path, "SELECT count(*) FROM marts.disruptions_monthly")[0][0] > 0
