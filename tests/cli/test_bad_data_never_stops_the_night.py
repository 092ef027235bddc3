"""One night through the real `disruptions run`, with a landing folder holding one example
of each class of bad input a sender has produced, beside two good files.

Every bad file ends as quarantined rows, a held batch or a rejected file, with an alert;
the good files are published; nothing sensitive leaks; nothing crashes.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import duckdb
import pytest
from hostile_files import (
    DISRUPTION_COLUMNS,
    NOTES_SENTINEL,
    SENTINEL,
    assessment,
    csv_text,
    disruption,
    good_files,
    jsonl_text,
)

pytestmark = pytest.mark.slow

XSS = "<img src=x onerror=alert(1)>"


def hostile_files() -> dict[str, str | bytes]:
    header = ",".join(DISRUPTION_COLUMNS[:10])
    good_line = "D-X,OCG-X,2026-03-01,2026-03-02,major,pursue,arrest,NCA,GMP,approved"
    return {
        # Headers Python's csv module could not read crashed ingest for every file after.
        "disruptions_cr_only.csv": f"{header}\r{good_line}\r".encode(),
        "disruptions_long_header.csv": ("disruption_id," + "x" * 200_000 + "\n1\n").encode(),
        # A date pandas cannot hold stopped batch validation on every later night.
        "unit_b/ocg_assessments_far_future.csv": csv_text(
            # Eleven good rows: one bad row in twelve is too few to hold the batch.
            [assessment(ocg_id="OCG-FUTURE", assessed_on="2999-01-01")]
            + [assessment(ocg_id=f"OCG-GOOD-{n}", lead_force="LEICS") for n in range(3, 14)]
        ),
        "unit_b/disruptions_far_future.csv": csv_text(
            [disruption(disruption_id="D-FUTURE", recorded_at="2999-01-02T00:00:00")]
        ),
        # A stray tab before `rationale`, and an unknown free-text column: a bad row's
        # record must not carry either beyond the working warehouse.
        "unit_b/disruptions_tab_header.csv": csv_text(
            [
                {
                    **disruption(disruption_id="D-TAB", impact="catastrophic"),
                    "\trationale": f"{SENTINEL} tab",
                    "notes": f"{NOTES_SENTINEL} free text",
                }
            ],
            [c for c in DISRUPTION_COLUMNS if c != "rationale"] + ["\trationale", "notes"],
        ),
        "unit_b/disruptions_control_key.jsonl": jsonl_text(
            [
                {
                    **{k: v for k, v in disruption(disruption_id="D-KEY").items()},
                    "impact": "unheard-of",
                    "rationale": None,
                    "\u0007Rationale\u200b": f"{SENTINEL} key",
                }
            ]
        ),
        # Live HTML in a value: Data Docs rendered it as markup.
        "unit_b/disruptions_markup.csv": csv_text(
            [disruption(disruption_id="D-XSS", ocg_id=XSS, impact="negative")]
        ),
        # The same claim version in two files with different values.
        "unit_c/disruptions_conflict_a.csv": csv_text(
            [disruption(disruption_id="D-TWICE", ocg_id="OCG-GOOD-1", impact="major")]
        ),
        "unit_c/disruptions_conflict_b.csv": csv_text(
            [disruption(disruption_id="D-TWICE", ocg_id="OCG-GOOD-1", impact="minor")]
        ),
        # A threat score nobody could mean.
        "unit_c/ocg_assessments_implausible.csv": csv_text(
            [assessment(ocg_id="OCG-HUGE", threat_score="2147483647", lead_force="NOTTS")]
        ),
        # A name that would forge a line in the log.
        "unit_c/disruptions_new\nline.csv": csv_text(
            [disruption(disruption_id="D-NEWLINE", ocg_id="OCG-GOOD-2")]
        ),
    }


@pytest.fixture(scope="module")
def night(module_cli):
    cli = module_cli
    for relative, content in {**good_files(), **hostile_files()}.items():
        path = cli.landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    # A file its sender is still writing, line after line, all through the run.
    still_writing = cli.landing / "unit_c" / "disruptions_still_writing.csv"
    still_writing.write_text(csv_text([disruption(disruption_id="D-LATE")]), encoding="utf-8")
    stop = threading.Event()

    def keep_writing() -> None:
        with open(still_writing, "a", encoding="utf-8") as handle:
            while not stop.wait(0.1):
                handle.write(
                    "D-LATE,OCG-1,2026-03-01,2026-03-02,major,pursue,arrest,NCA,GMP,approved\n"
                )
                handle.flush()

    writer = threading.Thread(target=keep_writing, daemon=True)
    writer.start()
    try:
        completed = cli(
            "run", "--as-of", "2026-11-01", env={"DISRUPTIONS_LANDING_SETTLE_SECONDS": "1"}
        )
    finally:
        stop.set()
        writer.join()
    return cli, completed


def published_text(path) -> str:
    """Every value of every table of the published file, as text."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
        return "\n".join(
            str(con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall())
            for schema, table in tables
        )
    finally:
        con.close()


def test_bad_files_end_rejected_quarantined_or_held_and_the_good_ones_are_published(night):
    cli, completed = night
    assert completed.returncode == 0, completed.stderr
    assert "files left for a later run: 1: unit_c/disruptions_still_writing.csv" in (
        completed.stdout
    )
    published = cli.home / "published" / "disruptions.duckdb"
    con = duckdb.connect(str(published), read_only=True)
    summary = con.execute("SELECT ocg_id FROM marts.ocg_disruption_summary").fetchall()
    ocgs = {ocg_id for (ocg_id,) in summary}
    ledger = dict(con.execute("SELECT source_file, status FROM audit.load_batches").fetchall())
    counts = con.execute(
        "SELECT count(*) FROM audit.load_batches WHERE status IN ('loaded', 'held') "
        "AND rows_read <> rows_loaded + rows_quarantined"
    ).fetchone()[0]
    alerts = con.execute("SELECT severity, subject, message FROM audit.dq_alerts").fetchall()
    con.close()
    assert {"OCG-GOOD-1", "OCG-GOOD-2", "OCG-GOOD-3"} <= ocgs
    assert "OCG-FUTURE" not in ocgs
    assert ledger["disruptions_cr_only.csv"] == "rejected_file"
    assert ledger["disruptions_long_header.csv"] == "rejected_file"
    assert ledger["unit_b/ocg_assessments_far_future.csv"] == "loaded"
    assert "unit_c/disruptions_still_writing.csv" not in ledger
    assert counts == 0
    text = "\n".join(" ".join(alert) for alert in alerts)
    assert "lines end with CR only" in text
    # Both files of the conflicting version are named.
    conflict = [a for a in alerts if "conflicting_version" in a[2]]
    assert conflict and all(a[0] == "warning" for a in conflict)
    assert "disruptions_conflict_a.csv" in text and "disruptions_conflict_b.csv" in text
    assert any("threat_score" in a[2] and "2147483647" in a[2] for a in alerts)


def test_nothing_sensitive_leaves_the_working_warehouse(night):
    cli, _ = night
    published = published_text(cli.home / "published" / "disruptions.duckdb")
    assert SENTINEL not in published and NOTES_SENTINEL not in published
    con = duckdb.connect(str(cli.home / "published" / "disruptions.duckdb"), read_only=True)
    quarantined = con.execute("SELECT record FROM audit.quarantine").fetchall()
    records = [json.loads(record) for (record,) in quarantined]
    con.close()
    assert records and all("ocg_id" in record for record in records)
    assert not any("rationale" in key.lower() or "notes" in key for r in records for key in r)
    files = [p for p in (cli.home / "reports").rglob("*") if p.is_file()]
    files += [p for p in (cli.home / "logs").rglob("*") if p.is_file()]
    for path in files:
        content = path.read_bytes()
        assert SENTINEL.encode() not in content, path
        assert NOTES_SENTINEL.encode() not in content, path


def test_a_file_name_cannot_forge_a_log_line_and_markup_stays_text(night):
    cli, _ = night
    log = (cli.home / "logs" / "pipeline.log").read_text(encoding="utf-8")
    assert "disruptions_new\\nline.csv" in log
    assert not any(line.startswith("line.csv") for line in log.splitlines())
    docs = "".join(
        p.read_text(encoding="utf-8") for p in (cli.home / "reports" / "data_docs").rglob("*.html")
    )
    assert "&lt;img src=x onerror=alert(1)&gt;" in docs and "<img" not in docs


def test_status_shows_the_file_left_waiting(night):
    cli, _ = night
    completed = cli("status")
    assert completed.returncode == 0
    waiting = completed.stdout.split("Files waiting to be loaded", 1)[1].split("\n\n", 1)[0]
    assert "unit_c/disruptions_still_writing.csv" in waiting and "still being written" in waiting


@pytest.fixture(scope="module")
def offline_chromium():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "report"))
    from browser import Chromium, find_chromium

    executable = find_chromium()
    assert executable, "chromium is not installed: run `make system-deps`"
    with Chromium(executable) as browser:
        browser.call("Network.enable")
        # A closed police network: nothing outside this machine answers.
        browser.call(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        yield browser


@pytest.mark.slow
def test_every_generated_page_works_offline_and_fetches_nothing_from_outside(
    night, offline_chromium
):
    cli, _ = night
    reports = cli.home / "reports"
    pages = sorted(reports.rglob("*.html"))
    assert reports / "report.html" in pages and reports / "dbt_docs" / "index.html" in pages
    for page in pages:
        offline_chromium.events.clear()
        offline_chromium.open(page.as_uri())
        outside = [
            url
            for url in offline_chromium.requested_urls()
            if not url.startswith(reports.as_uri()) and not url.startswith("data:")
        ]
        assert outside == [], (page, outside)
        if "dbt_docs" not in page.parts:  # our pages: a sample value never became an image
            assert offline_chromium.evaluate("document.querySelectorAll('img').length") == 0
    offline_chromium.open((reports / "data_docs" / "index.html").as_uri())
    shown = offline_chromium.evaluate(
        "[...document.querySelectorAll('#validations tr.validation')]"
        ".filter(row => row.getBoundingClientRect().height > 0).length"
    )
    assert shown >= 10
    assert offline_chromium.problems() == []
