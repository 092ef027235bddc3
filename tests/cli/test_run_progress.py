"""`disruptions run` tells the person waiting what it is doing: each task as it starts and
ends with its elapsed time, and ingest's files and rows so far; one line per task when
stderr is not a terminal. The real command, on a synthesised landing folder, once with
stderr to a file and once on a pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import time

import pytest
from conftest import DISRUPTIONS  # tests/cli is on sys.path

from disruptions.progress import ProgressPrinter, report
from disruptions.synth import generate_feeds

pytestmark = pytest.mark.slow

TASKS = ("ingest", "validate_batches", "dbt_build", "publish", "report_and_docs")
TASK_LINE = re.compile(r"^\[ *\d+\.\ds\] (?P<task>\w+) (?P<status>succeeded|failed) in \d+\.\ds")


def test_without_a_terminal_each_task_is_one_line_and_stdout_is_the_summary(cli):
    generate_feeds(cli.landing, ocgs=120, disruptions=1500, seed=5)
    completed = cli("run", "--as-of", "2026-10-31")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stderr.splitlines()
    assert [TASK_LINE.match(line)["task"] for line in lines] == list(TASKS), lines
    assert all(TASK_LINE.match(line)["status"] == "succeeded" for line in lines)
    ingest = lines[0]
    files = len(list(cli.landing.rglob("*.csv")))
    assert f"{files} new file(s): {files} loaded" in ingest
    assert re.search(r"[\d,]+ rows loaded, 0 quarantined", ingest)
    assert re.search(
        r"dbt_build succeeded in [\d.]+s: first build, \d+ pass, \d+ success", lines[2]
    )
    assert "\r" not in completed.stderr and "\x1b" not in completed.stderr
    assert completed.stdout.startswith("disruptions_nightly run ")


def test_on_a_terminal_tasks_start_and_ingest_counts_files_and_rows(cli):
    generate_feeds(cli.landing, ocgs=120, disruptions=1500, seed=6)
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [DISRUPTIONS, "run", "--as-of", "2026-10-31"],
            env=cli.env,
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
        )
        os.close(terminal)
        output = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed: the run has ended
                break
            if not chunk:
                break
            output += chunk
        process.wait(timeout=600)
    finally:
        os.close(controller)
    assert process.returncode == 0
    text = output.decode("utf-8")
    assert "starting the DAG run in Airflow" in text
    for task in TASKS:
        assert re.search(rf"\] {task} started", text), task
        assert re.search(rf"\] {task} succeeded in \d+\.\ds", text), task
    # Work in progress is rewritten in place on one line.
    assert re.search(r"\r\x1b\[K\[ *\d+\.\ds\] ingest: \d+/\d+ files, [\d,]+ rows", text)


class FakeTerminal:
    """A text stream that says it is a terminal, to read what the printer writes."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def test_the_printer_reads_events_as_the_child_writes_them(tmp_path, monkeypatch):
    path = tmp_path / "progress.jsonl"
    monkeypatch.setenv("DISRUPTIONS_PROGRESS_FILE", str(path))
    screen = FakeTerminal()
    printer = ProgressPrinter(path, screen, started=time.time())
    printer.poll()  # no file yet: nothing, and no error
    report("ingest", "started")
    report("ingest", "progress", files_done=1, files_total=4, rows=1234)
    report("ingest", "progress", files_done=2, files_total=4, rows=2000)  # too soon: dropped
    finished = json.dumps(
        {
            "step": "ingest",
            "event": "finished",
            "at": time.time() + 2,
            "status": "succeeded",
            "detail": "4 files \x1b[2J",
        }  # fmt: skip
    )
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(finished[:20])  # the child is half way through writing a line
    printer.poll()
    assert "ingest started\n" in screen.text
    assert screen.text.endswith("] ingest: 1/4 files, 1,234 rows")  # the live line
    assert "2/4 files" not in screen.text
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(finished[20:] + "\n")
    printer.close()
    last = screen.text.splitlines()[-1]
    # A new line after the live one; the detail's escape is shown, not obeyed.
    assert re.fullmatch(r"\[ *\d+\.\ds\] ingest succeeded in 2\.\ds: 4 files \\x1b\[2J", last), last
