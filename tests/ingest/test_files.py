"""Whole files: rejected files, extra columns, empty and header-only files, symlinks,
files still being written, and which names are picked up at all."""

from __future__ import annotations

import dataclasses
import os
import threading
import time

from ingest_helpers import ASSESSMENT_HEADER, DISRUPTION_HEADER, csv_text, disruption_row

from disruptions.config import load_settings
from disruptions.ingest import discovery as ingest_discovery
from disruptions.ingest import ingest_landing
from disruptions.ingest import loader as ingest_module
from disruptions.ingest.discovery import fingerprint, unchanged_since
from disruptions.warehouse import open_warehouse


def ledger(query):
    return query(
        "SELECT source_file, status, rows_read, rows_loaded, rows_quarantined, message "
        "FROM audit.load_batches ORDER BY batch_id"
    )


def alerts(query):
    return query("SELECT severity, source, subject, details FROM audit.dq_alerts ORDER BY 1")


def test_missing_required_columns_reject_the_file_with_an_alert(land, ingest, query):
    header = DISRUPTION_HEADER.replace("impact,strand,", "")
    land(
        "disruptions_short.csv",
        csv_text(header, "D1,OCG1,2025-03-01,2025-03-01,arrest,NCA,MPS,approved,,"),
    )
    summary = ingest()
    [result] = summary.batches
    assert result.status == "rejected_file"
    assert result.message == "disruptions_short.csv: missing required columns: impact, strand"
    assert query("SELECT count(*) FROM raw.disruptions") == [(0,)]
    [(severity, source, subject, details)] = alerts(query)
    assert (severity, source, subject) == (
        "critical",
        "ingest",
        "Rejected file disruptions_short.csv",
    )
    assert '"batch_id": ' + str(result.batch_id) in details.replace('":', '": ').replace("  ", " ")
    assert "disruptions_short.csv" in details and "missing required columns" in details


def test_extra_columns_are_ignored_with_a_warning_in_the_batch_message(land, ingest, query):
    land(
        "disruptions_extra.csv",
        csv_text(DISRUPTION_HEADER + ",officer,Notes", disruption_row() + ",PC 123,n/a"),
    )
    ingest()
    [(_, status, read, loaded, _, message)] = ledger(query)
    assert (status, read, loaded) == ("loaded", 1, 1)
    assert message.endswith("ignored extra columns: officer, Notes")


def test_optional_columns_may_be_absent(land, ingest, query):
    header = DISRUPTION_HEADER.removesuffix(",operation,rationale")
    land("disruptions_lean.csv", csv_text(header, disruption_row().rsplit(",", 2)[0]))
    ingest()
    assert query("SELECT operation, rationale FROM raw.disruptions") == [(None, None)]


def test_empty_file_is_rejected(land, ingest, query):
    land("disruptions_empty.csv", b"")
    [result] = ingest().batches
    assert result.status == "rejected_file"
    assert result.message == "disruptions_empty.csv: empty file: no header row"


def test_empty_jsonl_file_is_rejected_as_empty(land, ingest):
    land("ocg_assessments_empty.jsonl", "\n")
    [result] = ingest().batches
    assert (result.status, result.message) == (
        "rejected_file",
        "ocg_assessments_empty.jsonl: empty file: no JSON records",
    )


def test_header_only_file_is_a_loaded_batch_with_no_rows(land, ingest, query):
    land("disruptions_header.csv", csv_text(DISRUPTION_HEADER))
    ingest()
    assert ledger(query) == [
        ("disruptions_header.csv", "loaded", 0, 0, 0, "loaded 0 of 0 records, quarantined 0")
    ]


def test_non_utf8_bytes_reject_the_file_naming_the_line(land, ingest, query):
    good = csv_text(DISRUPTION_HEADER, disruption_row("D1"), disruption_row("D2")).encode()
    land(
        "disruptions_latin1.csv", good + disruption_row("D3", rationale="caf\xe9").encode("latin-1")
    )
    [result] = ingest().batches
    assert result.status == "rejected_file"
    assert result.message == (
        "disruptions_latin1.csv: not valid UTF-8: byte 0xE9 at line 4 (byte offset "
        f"{len(good) + len(disruption_row('D3', rationale='caf'))}); save the file as UTF-8"
    )
    assert query("SELECT count(*) FROM raw.disruptions") == [(0,)]
    assert len(alerts(query)) == 1


def test_malformed_csv_rejects_the_file_without_quoting_its_content(land, ingest, query):
    rows = [disruption_row("D1"), disruption_row("D2", rationale="secret, with, commas")]
    land("disruptions_ragged.csv", csv_text(DISRUPTION_HEADER, *rows))
    [result] = ingest().batches
    assert result.status == "rejected_file"
    assert "CSV Error on Line: 3 Expected Number of Columns: 12" in result.message
    assert "secret" not in result.message
    assert query("SELECT count(*) FROM raw.disruptions") == [(0,)]


def test_symlink_pointing_outside_landing_is_refused_and_its_target_never_opened(
    settings, land, tmp_path, query
):
    # A FIFO blocks whoever opens it: if ingest read the target, it would hang here.
    target = tmp_path / "outside.csv"
    os.mkfifo(target)
    (settings.landing / "disruptions_link.csv").symlink_to(target)
    land("disruptions_ok.csv", csv_text(DISRUPTION_HEADER, disruption_row()))
    results = []
    worker = threading.Thread(target=lambda: results.append(ingest_landing(settings, "test")))
    worker.start()
    worker.join(timeout=30)
    if worker.is_alive():  # unblock the reader so the test run can finish, then fail
        with open(target, "w"):
            pass
        worker.join()
        raise AssertionError("ingest opened the symlink's target outside the landing folder")
    assert [(r.source_file, r.status) for r in results[0].batches] == [
        ("disruptions_link.csv", "rejected_file"),
        ("disruptions_ok.csv", "loaded"),
    ]
    assert "symlink points outside the landing folder" in results[0].batches[0].message


def test_symlink_inside_landing_is_read_through_and_is_a_duplicate(land, settings, ingest):
    land("unit_a/disruptions_a.csv", csv_text(DISRUPTION_HEADER, disruption_row()))
    (settings.landing / "disruptions_link.csv").symlink_to(
        settings.landing / "unit_a/disruptions_a.csv"
    )
    statuses = [(r.source_file, r.status) for r in ingest().batches]
    assert statuses == [
        ("disruptions_link.csv", "loaded"),
        ("unit_a/disruptions_a.csv", "duplicate_file"),
    ]


def test_file_still_being_written_is_not_picked_up(settings, monkeypatch, land, query):
    monkeypatch.setenv("DISRUPTIONS_LANDING_SETTLE_SECONDS", "0.6")
    slow = load_settings()
    path = land("disruptions_growing.csv", DISRUPTION_HEADER + "\n")
    stop = threading.Event()

    def keep_writing():
        with open(path, "a") as handle:
            for number in range(1000):
                if stop.is_set():
                    return
                handle.write(disruption_row(f"D{number}") + "\n")
                handle.flush()
                time.sleep(0.05)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        summary = ingest_landing(slow, "test")
    finally:
        stop.set()
        writer.join()
    assert summary.batches == []
    assert summary.skipped == [("disruptions_growing.csv", "still being written")]
    # Once left alone for the settle time, it loads whole.
    written = path.read_text().count("\n") - 1
    summary = ingest_landing(slow, "test")
    assert [(r.status, r.rows_loaded) for r in summary.batches] == [("loaded", written)]


def test_hidden_temporary_and_foreign_files_are_ignored(land, ingest, query):
    row = csv_text(DISRUPTION_HEADER, disruption_row())
    for name in (
        ".disruptions_hidden.csv",
        "disruptions_upload.csv.part",
        "disruptions_x.csv.tmp",
        "~$disruptions.csv",
        "README.txt",
        ".~lock.disruptions.csv#",
    ):
        land(name, row)
    assert ingest().batches == []
    assert ledger(query) == []


def test_feed_names_with_other_formats_and_unknown_feeds_are_rejected_once(land, ingest, query):
    land("disruptions_2025.xlsx", b"PK\x03\x04 not really a workbook")
    land("arrests_2025.csv", csv_text(DISRUPTION_HEADER, disruption_row()))
    messages = [(r.feed, r.status, r.message) for r in ingest().batches]
    assert messages == [
        (
            None,
            "rejected_file",
            "arrests_2025.csv: file name matches no feed: it must start with "
            "disruptions or ocg_assessments",
        ),
        (
            "disruptions",
            "rejected_file",
            "disruptions_2025.xlsx: unsupported format '.xlsx': expected .csv, .parquet, .jsonl",
        ),
    ]
    # Still in the folder the next night: already in the ledger, so no new rows or alerts.
    assert ingest().batches == []
    assert len(alerts(query)) == 2


def test_rejected_file_resent_under_a_new_name_is_tried_again(land, ingest, query):
    bad = csv_text(ASSESSMENT_HEADER.replace(",band", ""), "OCG1,2025-01-01,3,active,,MPS")
    land("ocg_assessments_a.csv", bad)
    land("ocg_assessments_b.csv", bad)
    assert [r.status for r in ingest().batches] == ["rejected_file", "rejected_file"]


def test_file_appended_to_during_the_load_is_rolled_back_and_left_for_later(settings, land, query):
    rows = [disruption_row(f"D{number}") for number in range(50_000)]
    path = land("disruptions_busy.csv", csv_text(DISRUPTION_HEADER, *rows))
    stop = threading.Event()

    def append_slowly():
        with open(path, "a") as handle:
            while not stop.wait(0.02):
                handle.write(disruption_row("LATE") + "\n")
                handle.flush()

    writer = threading.Thread(target=append_slowly)
    writer.start()
    try:
        summary = ingest_landing(settings, "test")
    finally:
        stop.set()
        writer.join()
    # Caught either before the load (size/mtime moved) or by the sha256 taken again
    # before commit: in both cases nothing of the file is in the warehouse.
    assert summary.batches == []
    [(source, why)] = summary.skipped
    assert source == "disruptions_busy.csv"
    assert why in {"still being written", "changed while being loaded"}
    assert query("SELECT count(*) FROM audit.load_batches") == [(0,)]
    assert query("SELECT count(*) FROM raw.disruptions") == [(0,)]


def _rewrite_in_place_keeping_size_and_mtime(path):
    """What a careless sender might do: overwrite bytes in place and restore the mtime."""
    before = path.stat()
    data = bytearray(path.read_bytes())
    data[-3] = ord("X") if data[-3] != ord("X") else ord("Y")
    with open(path, "r+b") as handle:
        handle.write(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert path.stat().st_mtime_ns == before.st_mtime_ns


def test_change_check_trusts_the_file_status_only_when_it_proves_nothing_was_written(tmp_path):
    path = tmp_path / "disruptions.csv"
    path.write_text(csv_text(DISRUPTION_HEADER, disruption_row("D1")))
    prints = fingerprint(path)
    # Pretend the file had been quiet for a minute when it was hashed: its status is
    # trusted, so the check does not read the bytes again...
    quiet = dataclasses.replace(prints, taken_at_ns=prints.taken_at_ns + 60 * 10**9)
    assert unchanged_since(path, quiet)
    # ...and an in-place rewrite with the same size and the old mtime still shows,
    # because a writer cannot set ctime back.
    _rewrite_in_place_keeping_size_and_mtime(path)
    assert not unchanged_since(path, quiet)


def test_change_check_hashes_again_a_file_changed_just_before_it_was_hashed(tmp_path):
    path = tmp_path / "disruptions.csv"
    path.write_text(csv_text(DISRUPTION_HEADER, disruption_row("D1")))
    prints = fingerprint(path)  # the file is seconds old: its timestamps prove little
    assert unchanged_since(path, prints)
    # Same status, different bytes than hashed: only hashing again can tell.
    other_bytes = dataclasses.replace(prints, sha256="0" * 64)
    assert not unchanged_since(path, other_bytes)
    path.unlink()
    assert not unchanged_since(path, prints)


def test_old_files_are_recognised_by_their_status_and_not_read_again(
    land, ingest, query, monkeypatch
):
    path = land("disruptions_2025.csv", csv_text(DISRUPTION_HEADER, disruption_row("D1")))
    # Timestamps prove nothing about a file changed within the last 2 seconds.
    time.sleep(ingest_discovery.TIMESTAMP_TRUST_SECONDS + 0.1)
    assert [r.status for r in ingest().batches] == ["loaded"]

    hashed = []
    real_open = ingest_module.open_for_fingerprint
    monkeypatch.setattr(
        ingest_module, "open_for_fingerprint", lambda p: hashed.append(p.name) or real_open(p)
    )
    summary = ingest()
    assert summary.skipped == [("disruptions_2025.csv", "already in the ledger")]
    assert hashed == []  # the second night did not read the file at all

    # Rewritten in place with its size and mtime kept: ctime still moves, so the file is
    # read again and its new content is loaded as a new batch.
    _rewrite_in_place_keeping_size_and_mtime(path)
    assert [r.status for r in ingest().batches] == ["loaded"]
    assert hashed == ["disruptions_2025.csv"]
    assert query("SELECT count(DISTINCT sha256) FROM audit.load_batches") == [(2,)]


def test_a_new_file_is_loaded_while_it_is_hashed(land, ingest, query, monkeypatch):
    # The hash waits until the load has read the file: were the file hashed first, the
    # load would never start and the hash would give up waiting.
    load_started = threading.Event()
    waited = []
    real_read_all = ingest_discovery.OpenedForFingerprint.read_all
    real_file_source = ingest_module.file_source

    def read_all_once_the_load_started(opened):
        waited.append(load_started.wait(timeout=20))
        return real_read_all(opened)

    def file_source(*args):
        load_started.set()
        return real_file_source(*args)

    monkeypatch.setattr(
        ingest_discovery.OpenedForFingerprint, "read_all", read_all_once_the_load_started
    )
    monkeypatch.setattr(ingest_module, "file_source", file_source)
    path = land("disruptions_2025.csv", csv_text(DISRUPTION_HEADER, disruption_row("D1")))
    [result] = ingest().batches
    assert (result.status, result.rows_loaded) == ("loaded", 1)
    # (The check after the load hashes a just-written file once more.)
    assert waited[0] is True
    assert query("SELECT sha256 FROM audit.load_batches") == [(fingerprint(path).sha256,)]
    assert query("SELECT line_number FROM raw.disruptions") == [(2,)]


def test_bytes_found_loaded_only_by_the_hash_are_a_duplicate_and_nothing_is_kept(
    settings, land, ingest, query
):
    content = csv_text(DISRUPTION_HEADER, disruption_row("D1"), disruption_row("D2"))
    land("disruptions_a.csv", content)
    ingest()
    # Forget the first file's size, so the copy is not hashed first but loaded while it
    # is hashed: the hash, checked before the load commits, must still find the original.
    with open_warehouse(settings) as con:
        con.execute("DELETE FROM audit.landing_file_status")
    land("disruptions_b.csv", content)
    [result] = ingest().batches
    assert result.status == "duplicate_file"
    assert result.message.startswith("same content as batch ")
    assert query("SELECT count(*), count(DISTINCT batch_id) FROM raw.disruptions") == [(2, 1)]
    assert [row[:4] for row in ledger(query)] == [
        ("disruptions_a.csv", "loaded", 2, 2),
        ("disruptions_b.csv", "duplicate_file", None, None),
    ]
