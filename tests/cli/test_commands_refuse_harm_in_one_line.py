"""Commands given impossible paths, dates or homes answer in one line and harm nothing."""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook
from postgres_server import free_port  # tests/ is on sys.path

QUERY_DIR = Path(__file__).resolve().parent.parent / "query"
sys.path.insert(0, str(QUERY_DIR))
from published_sample import build_published_sample  # noqa: E402

AS_USER_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def one_line_error(completed, *fragments: str) -> str:
    assert completed.returncode != 0
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory):
    return build_published_sample(tmp_path_factory.mktemp("sample") / "disruptions.duckdb")


@pytest.fixture
def published(cli, sample_file):
    target = cli.home / "published" / "disruptions.duckdb"
    target.parent.mkdir(parents=True)
    shutil.copyfile(sample_file, target)
    return cli


@pytest.mark.parametrize(
    ("as_of", "fragment"),
    [
        ("1999-12-31", "is before 2000-01-01"),
        ("9999-12-31", "is after today"),
        ((date.today() + timedelta(days=2)).isoformat(), "is after today"),
        ("2026-02-30", "not a YYYY-MM-DD date"),
    ],
)
def test_run_refuses_an_as_of_no_run_can_mean(cli, as_of, fragment):
    completed = cli("run", "--as-of", as_of)
    if "YYYY" in fragment:  # argparse's own usage error
        assert completed.returncode == 2 and fragment in completed.stderr
        return
    one_line_error(completed, fragment)
    assert not (cli.home / "published").exists()


def test_export_refuses_special_files_symlinks_and_folders_without_touching_them(
    published, tmp_path
):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    target = tmp_path / "precious.csv"
    target.write_text("keep me")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    for out, fragment in [
        (fifo, "is not a regular file"),
        (link, "is a symbolic link"),
        (folder, "is not a regular file"),
        (target / "inside.csv", "cannot write there"),
        (Path("/proc/self/disruptions-export.csv"), "cannot write"),
    ]:
        completed = published("export", "ocg_disruption_summary", "--out", str(out))
        one_line_error(completed, str(out), fragment)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert link.is_symlink() and target.read_text() == "keep me"
    assert folder.is_dir() and not list(folder.iterdir())


def test_export_writes_a_new_path_and_replaces_a_regular_file(published, tmp_path):
    out = tmp_path / "new" / "summary.csv"
    assert published("export", "ocg_disruption_summary", "--out", str(out)).returncode == 0
    assert out.read_text().startswith("ocg_id,")
    out.write_text("old")
    assert published("export", "ocg_disruption_summary", "--out", str(out)).returncode == 0
    assert out.read_text().startswith("ocg_id,")


def test_xlsx_export_keeps_control_characters_visible_instead_of_crashing(published, tmp_path):
    path = published.home / "published" / "disruptions.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "UPDATE marts.dim_ocg_assessment_history SET principal_activity = ? "
        "WHERE rowid = (SELECT min(rowid) FROM marts.dim_ocg_assessment_history)",
        ["drugs\x0bsupply\x00"],
    )
    con.close()
    out = tmp_path / "history.xlsx"
    completed = published(
        "export", "dim_ocg_assessment_history", "--format", "xlsx", "--out", str(out)
    )
    assert completed.returncode == 0, completed.stderr
    values = {cell for row in load_workbook(out).active.iter_rows(values_only=True) for cell in row}
    assert "drugs\u240bsupply\u2400" in values


def test_a_home_that_is_a_file_is_refused_by_every_command(cli, tmp_path):
    not_a_folder = tmp_path / "home-file"
    not_a_folder.write_text("x")
    for command in (["status"], ["ingest"], ["query", "SELECT 1"], ["report"], ["release", "1"]):
        completed = cli(*command, "--home", str(not_a_folder))
        one_line_error(completed, "is a file, not a folder")


@pytest.fixture
def readable_by_all(published):
    """The published home moved where any user can reach it (pytest's folders are 0700)."""
    outer = Path(tempfile.mkdtemp(prefix="read-only-home-"))
    outer.chmod(0o755)
    home = outer / published.home.name
    shutil.copytree(published.home, home)
    for path in [home, *home.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    published.home = home
    published.env.update(
        {"DISRUPTIONS_HOME": str(home), "DISRUPTIONS_LANDING": str(home / "landing")}
    )
    yield published
    shutil.rmtree(outer, ignore_errors=True)


def test_a_read_only_home_can_be_read_and_writers_refuse_in_one_line(readable_by_all):
    # The home belongs to root; the commands run as nobody, who may only read it.
    published = readable_by_all
    status = published("status", prefix=AS_USER_NOBODY)
    assert status.returncode == 0, status.stderr
    query = published(
        "query", "SELECT count(*) AS n FROM marts.ocg_disruption_summary", prefix=AS_USER_NOBODY
    )
    assert query.returncode == 0, query.stderr
    for command in (["ingest"], ["run"], ["report"], ["discard", "3"]):
        completed = published(*command, prefix=AS_USER_NOBODY)
        one_line_error(completed, "cannot write to the home folder")


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        (
            {"DISRUPTIONS_ENGINE": "spark", "DISRUPTIONS_SPARK_MASTER": "mesos://m:5050"},
            "DISRUPTIONS_SPARK_MASTER='mesos://m:5050' is not a Spark master",
        ),
        (
            {"DISRUPTIONS_ENGINE": "oracle"},
            "is not an engine: choose one of duckdb, postgres, spark",
        ),
        ({"DISRUPTIONS_ENGINE": "postgres"}, "postgres needs DISRUPTIONS_POSTGRES_URL"),
        (
            {"DISRUPTIONS_ENGINE": "postgres", "DISRUPTIONS_POSTGRES_URL": "mysql://u:sesame@h/d"},
            "must start with postgresql://, not 'mysql'",
        ),
    ],
)
def test_a_wrong_engine_setting_is_refused_rather_than_replaced_by_duckdb(cli, settings, fragment):
    # An operator who asked for the national warehouse must not get a local DuckDB file
    # instead and believe the night was loaded there.
    completed = cli("run", env=settings)
    one_line_error(completed, fragment)
    assert "sesame" not in completed.stderr + completed.stdout
    assert not (cli.home / "warehouse.duckdb").exists()

    assert cli("status", env={"DISRUPTIONS_ENGINE": " DuckDB "}).returncode == 0


def test_an_unreachable_postgres_warehouse_is_one_line_without_the_password(cli):
    port = free_port()  # nothing listens there
    url = f"postgresql://writer:sesame@127.0.0.1:{port}/disruptions"
    completed = cli(
        "query", "SELECT 1", env={"DISRUPTIONS_ENGINE": "postgres", "DISRUPTIONS_POSTGRES_URL": url}
    )
    one_line_error(completed, "cannot connect to the PostgreSQL warehouse")
    assert "sesame" not in completed.stderr + completed.stdout
