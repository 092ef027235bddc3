"""`disruptions query`: read-only SQL on the published file, in three formats."""

from __future__ import annotations

import csv
import io
import json
import shutil

import duckdb
import pytest

from disruptions.cli import main
from disruptions.config import QUERIES_DIR
from disruptions.engines import open_published
from disruptions.errors import UserError
from disruptions.serve.query import run_query


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO marts.ocg_disruption_summary (ocg_id) VALUES ('X')",
        "UPDATE marts.ocg_disruption_summary SET net_disruption_score = 0",
        "DELETE FROM marts.ocg_disruption_summary",
        "CREATE TABLE marts.evil AS SELECT 1",
        "DROP TABLE marts.ocg_disruption_summary",
        "ATTACH '{tmp}/other.duckdb' AS other",
        "COPY marts.ocg_disruption_summary TO '{tmp}/leak.csv'",
        "EXPORT DATABASE '{tmp}/dump'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "PRAGMA enable_profiling",
    ],
)
def test_write_statements_are_refused_with_one_clear_line(published, tmp_path, sql):
    before = _summary_fingerprint(published)
    with pytest.raises(UserError) as refused:
        run_query(published, sql.format(tmp=tmp_path))
    message = str(refused.value)
    assert message.startswith("queries are read-only: ")
    assert "\n" not in message
    assert _summary_fingerprint(published) == before
    assert not (tmp_path / "leak.csv").exists()
    assert not (tmp_path / "other.duckdb").exists()
    assert not (tmp_path / "dump").exists()


def test_a_write_hidden_after_a_select_is_refused(published):
    with pytest.raises(UserError, match="one statement at a time"):
        run_query(published, "SELECT 1; DELETE FROM marts.ocg_disruption_summary")
    assert _summary_fingerprint(published)[0] > 0


def test_select_cannot_read_files_on_disk(published, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n")
    with pytest.raises(UserError) as refused:
        run_query(published, f"SELECT * FROM read_csv('{secret}')")
    assert "file system operations are disabled" in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_select_cannot_read_the_environment(published, monkeypatch):
    monkeypatch.setenv("DISRUPTIONS_SMTP_PASSWORD", "hunter2")
    with pytest.raises(UserError) as refused:
        run_query(published, "SELECT getenv('DISRUPTIONS_SMTP_PASSWORD')")
    assert "hunter2" not in str(refused.value)


def test_json_output_carries_uuids_lists_and_nulls(published):
    out = run_query(
        published,
        "SELECT uuid '00000000-0000-0000-0000-000000000001' AS id, [1, 2] AS xs, NULL AS nothing",
        output_format="json",
    )
    assert json.loads(out) == [
        {"id": "00000000-0000-0000-0000-000000000001", "xs": [1, 2], "nothing": None}
    ]


@pytest.mark.parametrize("rocu", [None, "EMSOU"])
def test_the_connection_itself_refuses_writes_and_other_files_without_the_sql_check(
    published, tmp_path, rocu
):
    # Defence in depth: even SQL that slipped past the statement check cannot write, in the
    # national file or a regional one.
    with open_published(published, rocu) as con:
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("INSERT INTO marts.ocg_disruption_summary (ocg_id) VALUES ('X')")
        with pytest.raises(duckdb.Error, match="disabled by configuration"):
            con.execute(f"ATTACH '{tmp_path}/other.duckdb' AS other")
        with pytest.raises(duckdb.Error, match="disabled by configuration"):
            con.execute(f"COPY (SELECT 1) TO '{tmp_path}/leak.csv'")
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET enable_external_access = true")
    assert not (tmp_path / "leak.csv").exists()


def test_the_working_warehouse_is_never_opened(published):
    run_query(published, "SELECT 1")
    assert not published.warehouse_path.exists()


def test_missing_published_file_tells_the_user_to_run_the_pipeline(settings):
    with pytest.raises(UserError, match="run `disruptions run`"):
        run_query(settings, "SELECT 1")


def test_sql_errors_come_back_as_duckdbs_one_line_message(published):
    with pytest.raises(UserError) as failed:
        run_query(published, "SELECT no_such_column FROM marts.ocg_disruption_summary")
    assert str(failed.value).startswith("SQL error: Binder Error:")
    assert "no_such_column" in str(failed.value)
    assert "\n" not in str(failed.value)
    with pytest.raises(UserError, match="SQL error: Parser Error"):
        run_query(published, "SELEC 1 FROM")


def test_table_output_aligns_columns_and_counts_rows(published):
    out = run_query(
        published,
        "SELECT ocg_id, net_disruption_score FROM marts.ocg_disruption_summary "
        "ORDER BY ocg_id LIMIT 3",
    )
    lines = out.splitlines()
    assert lines[0].split() == ["ocg_id", "net_disruption_score"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    # Every data line ends where the header does: numbers are right-aligned.
    assert {len(line) for line in lines[:5]} == {len(lines[0])}
    assert lines[-1] == "(3 rows)"


def test_csv_output_round_trips_and_escapes_formula_text(published):
    out = run_query(
        published,
        "SELECT '=cmd|'' /C calc''!A0' AS label, -5 AS amount, '@SUM(A1)' AS other",
        output_format="csv",
    )
    rows = list(csv.reader(io.StringIO(out)))
    assert rows == [["label", "amount", "other"], ["'=cmd|' /C calc'!A0", "-5", "'@SUM(A1)"]]


def test_json_output_is_a_list_of_objects(published):
    out = run_query(
        published,
        "SELECT ocg_id, net_disruption_score, as_of_date FROM marts.ocg_disruption_summary "
        "ORDER BY ocg_id LIMIT 2",
        output_format="json",
    )
    records = json.loads(out)
    assert [set(record) for record in records] == [
        {"ocg_id", "net_disruption_score", "as_of_date"}
    ] * 2
    assert records[0]["ocg_id"] == "OCG-0001"
    assert records[0]["as_of_date"] == "2026-06-30"
    assert isinstance(records[0]["net_disruption_score"], int)


@pytest.mark.parametrize("name", sorted(path.stem for path in QUERIES_DIR.glob("*.sql")))
def test_every_saved_query_runs_and_shows_the_rocu_column(published, name):
    records = json.loads(run_query(published, name, output_format="json"))
    assert records, f"{name} returned no rows on the sample"
    assert "rocu" in records[0]


def test_the_shipped_saved_queries_are_the_promised_ones():
    names = {path.stem for path in QUERIES_DIR.glob("*.sql")}
    assert {
        "top_ocgs_by_net_score",
        "disrupted_not_reassessed_6m",
        "negative_disruptions_this_quarter",
    } <= names


def test_top_ocgs_query_ranks_within_each_rocu(published):
    records = json.loads(run_query(published, "top_ocgs_by_net_score", output_format="json"))
    emsou = [record for record in records if record["rocu"] == "EMSOU"]
    scores = [record["net_disruption_score"] for record in emsou]
    assert scores == sorted(scores, reverse=True)
    assert [record["rank_in_rocu"] for record in emsou] == list(range(1, len(emsou) + 1))
    assert len(emsou) <= 10


def test_negative_disruptions_this_quarter_is_relative_to_the_marts_as_of_date(published):
    records = json.loads(
        run_query(published, "negative_disruptions_this_quarter", output_format="json")
    )
    expected = run_query(
        published,
        "SELECT sum(claim_count) AS n FROM marts.disruptions_monthly "
        "WHERE impact = 'negative' "
        "AND disruption_month BETWEEN DATE '2026-04-01' AND DATE '2026-06-30'",
        output_format="json",
    )
    assert sum(record["negative_disruptions"] for record in records) == json.loads(expected)[0]["n"]
    assert all("2026-04-01" <= record["first_month"] <= "2026-06-30" for record in records)


@pytest.mark.parametrize("name", sorted(path.stem for path in QUERIES_DIR.glob("*.sql")))
def test_every_saved_query_runs_on_a_regional_file_and_shows_only_that_rocu(published, name):
    records = json.loads(run_query(published, name, output_format="json", rocu="EMSOU"))
    assert {record["rocu"] for record in records} <= {"EMSOU"}


def test_rocu_reads_that_rocus_regional_file(published):
    assert json.loads(
        run_query(published, "SELECT current_database() AS db", output_format="json", rocu="emsou")
    ) == [{"db": "EMSOU"}]
    figures = (
        "SELECT rocu, count(*) AS ocgs, sum(total_disruptions) AS disruptions, "
        "sum(net_disruption_score) AS net FROM marts.ocg_disruption_summary "
    )
    regional = json.loads(run_query(published, figures + "GROUP BY rocu", "json", rocu="EMSOU"))
    national = json.loads(
        run_query(published, figures + "WHERE rocu = 'EMSOU' GROUP BY rocu", "json")
    )
    assert regional == national and regional[0]["disruptions"] > 0
    # Every claim version against the region's OCGs is there, and no other region's.
    claims = "SELECT count(*) AS n FROM marts.fct_disruption_claims"
    in_region = json.loads(
        run_query(
            published,
            claims + " WHERE ocg_id IN "
            "(SELECT ocg_id FROM marts.ocg_disruption_summary WHERE rocu = 'EMSOU')",
            "json",
        )
    )
    assert json.loads(run_query(published, claims, "json", rocu="EMSOU")) == in_region
    # The quarantine can quote any region's values: it is national only.
    with pytest.raises(UserError, match=r"^SQL error: Catalog Error: .*quarantine"):
        run_query(published, "SELECT count(*) FROM audit.quarantine", rocu="EMSOU")


def test_an_unknown_rocu_is_refused_in_one_line_naming_the_published_regions(published):
    with pytest.raises(UserError) as refused:
        run_query(published, "SELECT 1", rocu="MARS")
    assert str(refused.value) == (
        "unknown ROCU 'MARS'; published regions: "
        "EMSOU, ERSOU, LDNROCU, NEROCU, NWROCU, SEROCU, SWROCU, TARIAN, WMROCU, YHROCU"
    )


@pytest.mark.parametrize(
    "rocu", ["../national", "../../published/NATIONAL", "EMSOU/../../NATIONAL"]
)
def test_a_rocu_code_cannot_name_a_file_outside_the_regional_folder(published, rocu):
    # A file a ROCU code with a path in it would reach, were it taken as a file name.
    shutil.copyfile(published.published_path, published.published_dir / "NATIONAL.duckdb")
    with pytest.raises(UserError) as refused:
        run_query(published, "SELECT count(*) FROM marts.ocg_disruption_summary", rocu=rocu)
    assert "\n" not in str(refused.value)


def test_rocu_before_any_regional_file_is_published_tells_the_user_to_run_the_pipeline(
    published,
):
    shutil.rmtree(published.regional_published_dir)
    with pytest.raises(UserError, match="no regional files published yet; run `disruptions run`"):
        run_query(published, "SELECT 1", rocu="EMSOU")
    assert json.loads(run_query(published, "SELECT 1 AS one", "json")) == [{"one": 1}]


def test_unknown_saved_query_lists_the_saved_ones(published):
    with pytest.raises(UserError, match="no saved query named 'top_ocg'.*top_ocgs_by_net_score"):
        run_query(published, "top_ocg")


def test_cli_prints_a_refusal_on_stderr_without_a_traceback(published, capsys):
    code = main(["query", "DROP TABLE marts.ocg_disruption_summary"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith("disruptions query: error: queries are read-only: DROP")
    assert "Traceback" not in captured.err
    assert main(["query", "SELECT 42 AS answer", "--format", "csv"]) == 0
    assert capsys.readouterr().out == "answer\r\n42\r\n"


def test_cli_query_reads_a_rocus_file_and_refuses_an_unknown_rocu_in_one_line(published, capsys):
    sql = "SELECT DISTINCT rocu FROM marts.rocu_force_balance"
    assert main(["query", sql, "--rocu", "tarian", "--format", "csv"]) == 0
    assert capsys.readouterr().out == "rocu\r\nTARIAN\r\n"
    assert main(["query", "SELECT 1", "--rocu", "MARS"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("disruptions query: error: unknown ROCU 'MARS'; published regions: EMSOU")
    assert err.count("\n") == 1 and "Traceback" not in err


def _summary_fingerprint(settings):
    con = duckdb.connect(str(settings.published_path), read_only=True)
    try:
        return con.execute(
            "SELECT count(*), sum(net_disruption_score) FROM marts.ocg_disruption_summary"
        ).fetchone()
    finally:
        con.close()
