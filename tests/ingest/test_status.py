"""`disruptions status`: what it shows, that it never shows rationale, and that it answers
while a run holds the warehouse."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb
from ingest_helpers import DISRUPTION_HEADER, csv_text, disruption_row

from disruptions.cli import main
from disruptions.warehouse import open_warehouse

SECRET = "informant-codename-NIGHTJAR"


def status_output(settings, capsys) -> str:
    assert main(["status", "--home", str(settings.home)]) == 0
    return capsys.readouterr().out


def test_status_before_any_ingest_says_there_is_nothing_yet(empty_settings, capsys):
    assert "nothing has been ingested" in status_output(empty_settings, capsys)


def test_status_shows_ledger_quarantine_held_alerts_last_run_and_where_outputs_are(
    settings, land, ingest, capsys
):
    land(
        "emsou/disruptions_1.csv",
        csv_text(
            DISRUPTION_HEADER,
            disruption_row("D1"),
            disruption_row("D2", impact="catastrophic", rationale=SECRET),
        ),
    )
    land("disruptions_2.csv", csv_text(DISRUPTION_HEADER.replace(",impact", ""), "x"))
    land("ocg_assessments_held.csv", "ocg_id,assessed_on,threat_score,band,status,lead_force\n")
    ingest()
    with open_warehouse(settings) as con:  # what validation and review would have written
        con.execute("UPDATE audit.load_batches SET status = 'held' WHERE batch_id = 3")
        con.execute("INSERT INTO audit.batch_decisions VALUES (3, 'discarded', now(), 'steward')")
        con.execute(
            "INSERT INTO audit.pipeline_runs VALUES ('run-42', DATE '2025-03-01', 'ingest', "
            "'success', TIMESTAMP '2025-03-02 01:00', TIMESTAMP '2025-03-02 01:01', NULL)"
        )
    out = status_output(settings, capsys)
    assert f"Working warehouse: {settings.warehouse_path}" in out
    assert "emsou/disruptions_1.csv" in out and "loaded 1 of 2 records, quarantined 1" in out
    rejected = out.split("Rejected files")[1].split("Quarantined records")[0]
    assert "disruptions_2.csv: missing required columns: impact" in rejected
    assert "impact: value 'catastrophic' not allowed" in out  # the most common reason
    held = out.split("Held batches")[1].split("Recent alerts")[0]
    assert "ocg_assessments_held.csv" in held and "discarded" in held and "steward" in held
    assert "Rejected file disruptions_2.csv" in out.split("Recent alerts")[1]
    assert "Last run: run-42" in out and "success" in out.split("Last run")[1]
    assert str(settings.report_path) in out and str(settings.data_docs_dir) in out
    assert str(settings.dbt_docs_dir) in out
    assert SECRET not in out


def test_status_reads_the_published_audit_while_a_run_holds_the_warehouse(
    settings, land, ingest, capsys
):
    land("disruptions_1.csv", csv_text(DISRUPTION_HEADER, disruption_row("D1")))
    ingest()
    settings.published_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.published_path)) as con:
        con.execute(f"ATTACH '{settings.warehouse_path}' AS working (READ_ONLY)")
        con.execute("CREATE SCHEMA audit")
        con.execute("CREATE TABLE audit.load_batches AS SELECT * FROM working.audit.load_batches")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import fcntl, sys, time
            handle = open({str(settings.writer_lock_path)!r}, "a+")
            fcntl.flock(handle, fcntl.LOCK_EX)
            print("locked", flush=True)
            sys.stdin.read()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        out = status_output(settings, capsys)
    finally:
        holder.stdin.close()
        holder.wait()
    assert "A pipeline run holds the working warehouse" in out
    assert str(settings.published_path) in out
    assert "disruptions_1.csv" in out  # from the published copy's ledger
