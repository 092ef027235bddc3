"""The synthetic national sample: shape, rules, causality, bad input, layouts, increments."""

from __future__ import annotations

import csv
import hashlib
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest

from disruptions import synth
from disruptions.cli import main
from disruptions.config import SEEDS_DIR
from disruptions.errors import UserError

END_DATE = date(2026, 10, 31)
REQUIRED_DISRUPTION_COLUMNS = synth.DISRUPTION_COLUMNS[:10]
REQUIRED_ASSESSMENT_COLUMNS = ("ocg_id", "assessed_on", "threat_score", "band", "status")


def seed_codes(name: str, column: str) -> set[str]:
    with (SEEDS_DIR / name).open(newline="", encoding="utf-8") as handle:
        return {row[column] for row in csv.DictReader(handle)}


def feed_files(folder: Path, feed: str, extension: str = "csv") -> list[Path]:
    return sorted(folder.rglob(f"{feed}*.{extension}"))


def open_sample(folder: Path) -> duckdb.DuckDBPyConnection:
    """Views `d` (disruptions) and `a` (assessments) over a sample's CSV files, as text."""
    con = duckdb.connect()
    for view, feed in (("d", "disruptions"), ("a", "ocg_assessments")):
        paths = [str(path) for path in feed_files(folder, feed)]
        # A table, not a view: the tests query it many times.
        con.execute(
            f"CREATE TABLE {view} AS SELECT * FROM read_csv({paths!r}, header = true, "
            "delim = ',', quote = '\"', all_varchar = true, union_by_name = true)"
        )
    # The current version of each claim, as the marts pick it.
    con.execute(
        "CREATE VIEW current_claims AS SELECT * FROM d QUALIFY row_number() OVER "
        "(PARTITION BY disruption_id ORDER BY recorded_at DESC) = 1"
    )
    return con


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def file_hashes(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, synth.GenerateSummary]:
    """The default demo sample: 4,500 OCGs, 65,000 claim rows."""
    folder = tmp_path_factory.mktemp("demo")
    return folder, synth.generate_feeds(folder)


@pytest.fixture(scope="module")
def demo_db(demo) -> duckdb.DuckDBPyConnection:
    return open_sample(demo[0])


@pytest.fixture(scope="module")
def bad_sample(tmp_path_factory) -> tuple[Path, synth.GenerateSummary]:
    folder = tmp_path_factory.mktemp("bad")
    return folder, synth.generate_feeds(folder, ocgs=300, disruptions=8000, with_bad_input=True)


# --- determinism and size ---------------------------------------------------------------------
def test_same_arguments_give_byte_identical_files_and_another_seed_does_not(tmp_path):
    for name, seed in (("first", 7), ("again", 7), ("other", 8)):
        synth.generate_feeds(
            tmp_path / name, ocgs=120, disruptions=2500, seed=seed, with_bad_input=True
        )
    first = file_hashes(tmp_path / "first")
    assert first == file_hashes(tmp_path / "again")
    assert first != file_hashes(tmp_path / "other")


def test_demo_sample_has_exactly_the_requested_rows_and_about_the_requested_ocgs(demo, demo_db):
    _, summary = demo
    assert summary.rows["disruptions"] == 65_000
    assert scalar(demo_db, "SELECT count(*) FROM d") == 65_000
    ocgs = scalar(demo_db, "SELECT count(DISTINCT ocg_id) FROM (SELECT ocg_id FROM d "
                           "UNION ALL SELECT ocg_id FROM a)")  # fmt: skip
    assert 4_000 <= ocgs <= 4_500
    assert 20_000 <= summary.rows["ocg_assessments"] <= 60_000
    assert 60 <= len(summary.files) <= 125


def test_demo_sample_is_split_by_sending_rocu_and_year_sent_with_one_national_review_file(demo):
    folder, summary = demo
    rocus = seed_codes("rocus.csv", "rocu_code")
    force_rocu = {}
    with (SEEDS_DIR / "forces.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            force_rocu[row["force_code"]] = row["rocu_code"]
    assert {path.parent.name for path in summary.files if path.parent != folder} == rocus
    top_level = [path.name for path in summary.files if path.parent == folder]
    assert top_level == ["ocg_assessments_national_review.csv"]
    for path in feed_files(folder, "disruptions"):
        rocu, year = path.stem.split("_")[1:]
        assert path.parent.name == rocu
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                assert force_rocu[row["force_area"]] == rocu
                assert row["recorded_at"].startswith(year)


# --- the rules of SPEC sections 1 and 2 -------------------------------------------------------
@pytest.mark.parametrize(
    ("sql_column", "seed_file", "seed_column"),
    [
        ("SELECT tactic FROM d", "tactics.csv", "tactic"),
        ("SELECT strand FROM d", "strands.csv", "strand"),
        ("SELECT impact FROM d", "impact_levels.csv", "impact"),
        ("SELECT force_area FROM d", "forces.csv", "force_code"),
        ("SELECT lead_force FROM a", "forces.csv", "force_code"),
        ("SELECT band FROM a", "ocg_bands.csv", "band"),
    ],
)
def test_clean_sample_uses_every_seed_code_and_nothing_else(
    demo_db, sql_column, seed_file, seed_column
):
    used = {row[0] for row in demo_db.execute(f"SELECT DISTINCT * FROM ({sql_column})").fetchall()}
    assert used == seed_codes(seed_file, seed_column)


def test_lead_agencies_are_forces_rocus_or_partners_and_include_all_three_kinds(demo_db):
    forces = seed_codes("forces.csv", "force_code")
    rocus = seed_codes("rocus.csv", "rocu_code")
    partners = seed_codes("partner_agencies.csv", "agency_code")
    used = {row[0] for row in demo_db.execute("SELECT DISTINCT lead_agency FROM d").fetchall()}
    assert used <= forces | rocus | partners
    assert used & forces and used & rocus and used & partners


def test_clean_sample_has_every_required_field_and_every_enumeration_value(demo_db):
    for column in REQUIRED_DISRUPTION_COLUMNS:
        missing = scalar(demo_db, f"SELECT count(*) FROM d WHERE coalesce({column}, '') = ''")
        assert missing == 0, column
    for column in REQUIRED_ASSESSMENT_COLUMNS:
        missing = scalar(demo_db, f"SELECT count(*) FROM a WHERE coalesce({column}, '') = ''")
        assert missing == 0, column
    statuses = {row[0] for row in demo_db.execute("SELECT DISTINCT status FROM d").fetchall()}
    assert statuses == set(synth.STATUSES)
    reasons = {row[0] for row in demo_db.execute(
        "SELECT DISTINCT archive_reason FROM a WHERE status = 'archived'").fetchall()}  # fmt: skip
    assert reasons == set(synth.ARCHIVE_REASONS)


def test_archive_reason_is_set_exactly_when_archived(demo_db):
    inconsistent = scalar(
        demo_db,
        "SELECT count(*) FROM a WHERE (status = 'archived') <> (archive_reason IS NOT NULL)",
    )
    assert inconsistent == 0
    assert scalar(demo_db, "SELECT count(*) FROM a WHERE status = 'archived'") > 100


def test_dates_are_ordered_and_within_the_five_years(demo_db):
    row = demo_db.execute(
        """
        SELECT min(disruption_date::DATE), max(recorded_at::TIMESTAMP),
               count(*) FILTER (WHERE disruption_date::DATE > recorded_at::TIMESTAMP::DATE),
               count(*) FILTER (WHERE recorded_at NOT LIKE '____-__-__T__:__:__Z')
        FROM d
        """
    ).fetchone()
    earliest, latest_recorded, date_after_recorded, not_iso = row
    assert earliest >= date(2021, 11, 1)
    assert latest_recorded.date() <= END_DATE
    assert date_after_recorded == 0
    assert not_iso == 0
    assert scalar(demo_db, "SELECT max(assessed_on::DATE) FROM a") <= END_DATE


def test_every_amendment_is_recorded_strictly_after_the_version_it_amends(demo_db):
    tied = scalar(demo_db, "SELECT count(*) - count(DISTINCT (disruption_id, recorded_at)) FROM d")
    assert tied == 0
    # The first version of every claim is the claim itself; later ones are decisions.
    first_not_claimed = scalar(
        demo_db,
        "SELECT count(*) FROM (SELECT arg_min(status, recorded_at) AS first FROM d "
        "GROUP BY disruption_id) WHERE first <> 'claimed'",
    )
    assert first_not_claimed == 0
    amended = scalar(demo_db, "SELECT count(*) FROM (SELECT disruption_id FROM d "
                              "GROUP BY 1 HAVING count(*) > 1)")  # fmt: skip
    assert amended > 20_000


def test_claims_end_in_every_status_with_recent_ones_still_pending(demo_db):
    by_status = dict(demo_db.execute("SELECT status, count(*) FROM current_claims GROUP BY 1")
                     .fetchall())  # fmt: skip
    total = sum(by_status.values())
    assert by_status["approved"] / total > 0.6
    assert by_status["rejected"] > 0 and by_status["withdrawn"] > 0
    pending_rate = dict(
        demo_db.execute(
            "SELECT disruption_date::DATE > DATE '2026-08-31', avg((status = 'claimed')::INT) "
            "FROM current_claims GROUP BY 1"
        ).fetchall()
    )
    assert pending_rate[True] > 0.3
    assert pending_rate[False] < 0.03
    regraded = scalar(demo_db, "SELECT count(*) FROM (SELECT disruption_id FROM d "
                               "GROUP BY 1 HAVING count(DISTINCT impact) > 1)")  # fmt: skip
    assert regraded > 1_000


def test_band_follows_the_threat_score_by_band_rank(demo_db):
    ranges = demo_db.execute(
        "SELECT band, min(threat_score::INT), max(threat_score::INT) FROM a GROUP BY 1"
    ).fetchall()
    with (SEEDS_DIR / "ocg_bands.csv").open(newline="", encoding="utf-8") as handle:
        rank = {row["band"]: int(row["rank"]) for row in csv.DictReader(handle)}
    ordered = sorted(ranges, key=lambda band_range: rank[band_range[0]])
    # The most severe band holds the highest scores, and bands never overlap.
    for more_severe, less_severe in zip(ordered, ordered[1:], strict=False):
        assert less_severe[2] < more_severe[1]
    assert scalar(demo_db, "SELECT min(threat_score::INT) FROM a") >= 0


def test_band_for_score_gives_the_most_severe_band_to_the_highest_scores():
    bands = ("1A", "1B", "2A")
    assert [bands[i] for i in synth.band_for_score(np.array([100, 50, 0]), bands)] == [
        "1A",
        "1B",
        "2A",
    ]


def test_every_rationale_is_marked_sensitive(demo_db):
    unmarked = scalar(demo_db, "SELECT count(*) FROM d WHERE rationale NOT LIKE 'SENSITIVE:%'")
    assert unmarked == 0
    assert scalar(demo_db, "SELECT count(*) FROM d WHERE operation LIKE 'Op %'") > 30_000
    assert scalar(demo_db, "SELECT count(*) FROM d WHERE operation IS NULL") > 1_000


def test_corrected_assessments_come_in_a_later_file_and_no_file_repeats_a_key(demo):
    folder, _ = demo
    # Ingest loads files in path order (as strings): the national review file comes last.
    paths = sorted(
        feed_files(folder, "ocg_assessments"), key=lambda p: p.relative_to(folder).as_posix()
    )
    assert paths[-1] == folder / "ocg_assessments_national_review.csv"
    first_seen: dict[tuple[str, str], str] = {}
    corrections = 0
    for path in paths:
        keys_in_file = set()
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                key = (row["ocg_id"], row["assessed_on"])
                assert key not in keys_in_file, (path, key)
                keys_in_file.add(key)
                if key in first_seen:
                    assert path == paths[-1]
                    assert row["threat_score"] != first_seen[key]
                    corrections += 1
                else:
                    first_seen[key] = row["threat_score"]
    assert 20 <= corrections <= 1_000


def test_some_groups_have_no_assessment_or_are_disrupted_before_their_first_one(demo_db):
    never_assessed = scalar(
        demo_db,
        "SELECT count(DISTINCT ocg_id) FROM d WHERE ocg_id NOT IN (SELECT ocg_id FROM a)",
    )
    assert 40 <= never_assessed <= 200
    disrupted_before_mapping = scalar(
        demo_db,
        """
        SELECT count(*) FROM (SELECT ocg_id, min(disruption_date::DATE) AS first_disrupted
                              FROM current_claims WHERE status = 'approved' GROUP BY 1) c
        JOIN (SELECT ocg_id, min(assessed_on::DATE) AS first_assessed FROM a GROUP BY 1) m
        USING (ocg_id) WHERE first_disrupted < first_assessed
        """,
    )
    assert disrupted_before_mapping > 50


# --- the causal signal ------------------------------------------------------------------------
def test_threat_scores_fall_after_major_disruptions_and_rise_after_negative_ones(demo_db):
    change = dict(
        demo_db.execute(
            """
            WITH counted AS (SELECT * FROM current_claims WHERE status = 'approved'),
            scores AS (SELECT ocg_id, assessed_on::DATE AS day, threat_score::INT AS score FROM a),
            before AS (
                SELECT disruption_id, impact, arg_max(score, day) AS score FROM counted
                JOIN scores ON scores.ocg_id = counted.ocg_id
                 AND day <= disruption_date::DATE GROUP BY ALL),
            after AS (
                SELECT disruption_id, arg_min(score, day) AS score FROM counted
                JOIN scores ON scores.ocg_id = counted.ocg_id AND day > disruption_date::DATE
                 AND day <= disruption_date::DATE + INTERVAL 12 MONTH GROUP BY ALL)
            SELECT impact, avg(after.score - before.score)
            FROM before JOIN after USING (disruption_id) GROUP BY impact
            """
        ).fetchall()
    )
    assert change["major"] < change["moderate"] < change["minor"] < 0
    assert change["negative"] > 0
    assert change["major"] < change["none"] < change["negative"]


def test_groups_are_dismantled_more_often_soon_after_a_major_disruption(demo_db):
    dismantled_within_6_months = dict(
        demo_db.execute(
            """
            WITH dismantled AS (SELECT ocg_id, assessed_on::DATE AS day FROM a
                                WHERE archive_reason = 'dismantled')
            SELECT impact, avg((dismantled.day IS NOT NULL)::INT)
            FROM current_claims c LEFT JOIN dismantled ON dismantled.ocg_id = c.ocg_id
             AND dismantled.day > c.disruption_date::DATE
             AND dismantled.day <= c.disruption_date::DATE + INTERVAL 6 MONTH
            WHERE c.status = 'approved' GROUP BY 1
            """
        ).fetchall()
    )
    assert dismantled_within_6_months["major"] > 2 * dismantled_within_6_months["minor"]


LONG_TERM_EFFECT_SQL = """
WITH counted AS (SELECT * FROM current_claims WHERE status = 'approved' AND impact <> 'none'),
scores AS (SELECT ocg_id, assessed_on::DATE AS day, threat_score::INT AS score,
                  archive_reason FROM a),
baseline AS (SELECT ocg_id, min(disruption_date::DATE) AS day FROM counted GROUP BY 1),
horizon AS (
    SELECT b.ocg_id, b.day, (b.day + INTERVAL {h} MONTH)::DATE AS horizon_day,
        (SELECT arg_max(score, s.day) FROM scores s
         WHERE s.ocg_id = b.ocg_id AND s.day <= b.day) AS baseline_score,
        (SELECT arg_max(score, s.day) FROM scores s WHERE s.ocg_id = b.ocg_id
         AND s.day > b.day AND s.day <= b.day + INTERVAL {h} MONTH) AS horizon_score,
        EXISTS (SELECT 1 FROM scores s WHERE s.ocg_id = b.ocg_id
                AND archive_reason = 'dismantled' AND s.day > b.day
                AND s.day <= least(b.day + INTERVAL {h} MONTH, DATE '{as_of}')) AS dismantled
    FROM baseline b)
SELECT CASE
    WHEN dismantled THEN 'dismantled'
    WHEN horizon_day > DATE '{as_of}' THEN 'too_early'
    WHEN baseline_score IS NULL THEN 'insufficient_baseline'
    WHEN horizon_score IS NULL THEN 'not_reassessed'
    WHEN baseline_score = 0 THEN CASE WHEN horizon_score = 0 THEN 'no_change'
                                      ELSE 'strengthened' END
    WHEN (horizon_score - baseline_score) / baseline_score <= -0.1 THEN 'reduced'
    WHEN (horizon_score - baseline_score) / baseline_score >= 0.1 THEN 'strengthened'
    ELSE 'no_change' END AS effect, count(*)
FROM horizon GROUP BY 1
"""


@pytest.mark.parametrize("horizon_months", [6, 12])
def test_every_long_term_effect_occurs_in_the_demo_sample(demo_db, horizon_months):
    sql = LONG_TERM_EFFECT_SQL.format(h=horizon_months, as_of=END_DATE.isoformat())
    effects = dict(demo_db.execute(sql).fetchall())
    expected = {"dismantled", "too_early", "insufficient_baseline", "not_reassessed",
                "reduced", "strengthened", "no_change"}  # fmt: skip
    assert set(effects) == expected
    assert min(effects.values()) >= 25, effects
    assert effects["reduced"] > effects["strengthened"]


# --- bad input --------------------------------------------------------------------------------
def test_clean_sample_has_no_bad_files_and_no_bad_values(demo, demo_db):
    folder, summary = demo
    assert not (folder / synth.BAD_FEEDS_FOLDER).exists()
    assert summary.bad_rows == 0 and summary.bad_files == []
    padded = scalar(demo_db, "SELECT count(*) FROM d WHERE impact <> lower(trim(impact)) "
                             "OR status <> lower(trim(status))")  # fmt: skip
    assert padded == 0


def test_bad_input_puts_each_kind_of_bad_row_inside_normal_files(bad_sample):
    folder, summary = bad_sample
    con = duckdb.connect()
    normal = [str(p) for p in feed_files(folder, "disruptions") if p.parent.name != "BADFEEDS"]
    con.execute(f"CREATE VIEW d AS SELECT * FROM read_csv({normal!r}, all_varchar = true)")
    tactics = seed_codes("tactics.csv", "tactic")
    counts = con.execute(
        f"""
        SELECT count(*) FILTER (WHERE tactic NOT IN {tuple(tactics)!r}),
               count(*) FILTER (WHERE try_cast(disruption_date AS DATE) IS NULL
                                  AND disruption_date IS NOT NULL),
               count(*) FILTER (WHERE try_cast(disruption_date AS DATE) > recorded_at::DATE),
               count(*) FILTER (WHERE try_cast(disruption_date AS DATE) < DATE '2000-01-01'),
               count(*) FILTER (WHERE impact IS NULL OR ocg_id IS NULL),
               count(*) FILTER (WHERE impact <> lower(trim(impact))
                                  AND lower(trim(impact)) IN ('major', 'moderate', 'minor',
                                                              'none', 'negative')),
               count(*) FILTER (WHERE force_area <> upper(trim(force_area))),
               count(*)
        FROM d
        """
    ).fetchone()
    *bad_kinds, total = counts
    assert all(count > 0 for count in bad_kinds), counts
    assessments = [str(p) for p in feed_files(folder, "ocg_assessments")
                   if p.parent.name != "BADFEEDS"]  # fmt: skip
    negative_scores = con.execute(
        f"SELECT count(*) FROM read_csv({assessments!r}, all_varchar = true) "
        "WHERE try_cast(threat_score AS INT) < 0"
    ).fetchone()[0]
    assert negative_scores > 0
    assert 0 < summary.bad_rows < 0.005 * (total + summary.rows["ocg_assessments"])


def test_bad_input_adds_bad_files_in_their_own_sender_folder(bad_sample):
    folder, summary = bad_sample
    bad = {path.name: path.read_bytes() for path in summary.bad_files}
    assert all(path.parent == folder / "BADFEEDS" for path in summary.bad_files)
    assert bad["disruptions_BADFEEDS_empty.csv"] == b""
    header_only = bad["ocg_assessments_BADFEEDS_header_only.csv"].decode().splitlines()
    assert header_only == [",".join(synth.ASSESSMENT_SCHEMA.names)]
    missing = bad["disruptions_BADFEEDS_missing_status_column.csv"].decode().splitlines()[0]
    assert "status" not in missing.split(",") and "disruption_id" in missing
    with pytest.raises(UnicodeDecodeError):
        bad["disruptions_BADFEEDS_latin1.csv"].decode("utf-8")
    excel = bad["disruptions_BADFEEDS_excel_export.csv"]
    assert excel.startswith("\ufeff".encode()) and b"\r\n" in excel
    rows = list(csv.DictReader(excel.decode("utf-8-sig").splitlines(keepends=True)))
    assert rows and all("," in row["rationale"] and "\n" in row["rationale"] for row in rows)
    assert bad["disruptions_BADFEEDS_excel_export_resent.csv"] == excel


# --- layouts, formats, increments -------------------------------------------------------------
def test_single_layout_writes_one_file_per_feed(tmp_path):
    summary = synth.generate_feeds(tmp_path, ocgs=100, disruptions=1500, layout="single")
    assert [path.name for path in summary.files] == ["disruptions.csv", "ocg_assessments.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["disruptions.csv", "ocg_assessments.csv"]
    # One batch cannot order a correction after its original, so none is sent.
    repeated = duckdb.execute(
        f"SELECT count(*) - count(DISTINCT (ocg_id, assessed_on)) "
        f"FROM read_csv('{tmp_path / 'ocg_assessments.csv'}')"
    ).fetchone()[0]
    assert repeated == 0


def test_parquet_and_jsonl_hold_the_same_rows_as_csv(tmp_path):
    con = duckdb.connect()
    readers = {"csv": "read_csv({paths}, all_varchar = true)",
               "parquet": "read_parquet({paths})", "jsonl": "read_json({paths}, format = "
               "'newline_delimited', columns = {columns})"}  # fmt: skip
    columns = {name: "VARCHAR" for name in synth.DISRUPTION_COLUMNS}
    for file_format, reader in readers.items():
        synth.generate_feeds(tmp_path / file_format, ocgs=80, disruptions=1200,
                             file_format=file_format, layout="single")  # fmt: skip
        path = str(tmp_path / file_format / f"disruptions.{file_format}")
        con.execute(
            f"CREATE TABLE {file_format}_rows AS SELECT * FROM "
            + reader.format(paths=repr([path]), columns=columns)
        )
        assert con.execute(f"SELECT count(*) FROM {file_format}_rows").fetchone()[0] == 1200
    for other in ("parquet", "jsonl"):
        differing = con.execute(
            f"SELECT count(*) FROM (SELECT * FROM csv_rows EXCEPT SELECT * FROM {other}_rows)"
        ).fetchone()[0]
        assert differing == 0, other


def test_increment_adds_new_claims_and_later_amendments_of_existing_claims(tmp_path):
    base = tmp_path / "base"
    synth.generate_feeds(base, ocgs=200, disruptions=4000, seed=11)
    summary = synth.generate_increment(
        tmp_path / "night", base_ocgs=200, base_disruptions=4000, seed=11, fraction=0.05
    )
    assert summary.end_date == date(2026, 11, 1)
    con = open_sample(base)
    night_file = str(tmp_path / "night" / "disruptions_increment_20261101.csv")
    con.execute(f"CREATE VIEW night AS SELECT * FROM read_csv(['{night_file}'], all_varchar=true)")
    new, amendments, later, total = con.execute(
        """
        SELECT count(*) FILTER (WHERE last_base IS NULL AND disruption_date > '2026-10-31'),
               count(*) FILTER (WHERE last_base IS NOT NULL),
               count(*) FILTER (WHERE last_base IS NOT NULL AND recorded_at > last_base),
               count(*)
        FROM night LEFT JOIN (SELECT disruption_id, max(recorded_at) AS last_base
                              FROM d GROUP BY 1) USING (disruption_id)
        """
    ).fetchone()
    assert total == 200 and new + amendments == total
    assert new >= 50 and amendments >= 50 and later == amendments
    # An amendment keeps the claim's facts: same OCG, same date.
    changed_facts = scalar(
        con,
        "SELECT count(*) FROM night JOIN d USING (disruption_id) "
        "WHERE night.ocg_id <> d.ocg_id OR night.disruption_date <> d.disruption_date",
    )
    assert changed_facts == 0
    assert summary.rows["ocg_assessments"] > 0


def test_generate_command_writes_the_sample_and_prints_a_summary(tmp_path, capsys):
    exit_code = main(["generate", "--out", str(tmp_path), "--ocgs", "200",
                      "--disruptions", "3000", "--end-date", "2025-12-31"])  # fmt: skip
    assert exit_code == 0
    output = capsys.readouterr().out
    assert "disruptions 3,000 rows" in output and "end date 2025-12-31" in output
    assert sum(1 for _ in tmp_path.rglob("disruptions_*_2025.csv")) == 10


def test_unknown_layout_or_format_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="layout"):
        synth.generate_feeds(tmp_path, layout="by_colour")
    with pytest.raises(UserError, match="format"):
        synth.generate_feeds(tmp_path, file_format="xlsx")


def test_bad_input_changes_only_the_rows_it_spoils(tmp_path):
    for name, with_bad_input in (("clean", False), ("spoiled", True)):
        synth.generate_feeds(tmp_path / name, ocgs=150, disruptions=5000, layout="single",
                             with_bad_input=with_bad_input)  # fmt: skip
    for feed in ("disruptions", "ocg_assessments"):
        clean = (tmp_path / "clean" / f"{feed}.csv").read_text().splitlines()
        spoiled = (tmp_path / "spoiled" / f"{feed}.csv").read_text().splitlines()
        assert len(clean) == len(spoiled)
        changed = sum(1 for a, b in zip(clean, spoiled, strict=True) if a != b)
        assert 0 < changed <= 0.01 * len(clean)
