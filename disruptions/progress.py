"""Progress of a run, for the person waiting on `disruptions run` or `disruptions demo`.

The DAG runs in a child process (runner.py). Its steps report what they are doing with
`report(...)`, which appends one JSON line to the file named by DISRUPTIONS_PROGRESS_FILE
and does nothing when that is unset (the scheduled run, the tests of a single step). The
parent follows the file with `ProgressPrinter` and prints each task as it starts and ends,
with its elapsed time, and ingest's files and rows so far. On a terminal, work in progress
is one line rewritten in place; anywhere else it prints one line per finished task.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import IO, Any

from disruptions.logs import printable

PROGRESS_FILE_VARIABLE = "DISRUPTIONS_PROGRESS_FILE"
# Work-in-progress updates closer together than this are not worth a write.
MIN_UPDATE_SECONDS = 0.5
_last_update: dict[str, float] = {}


def report(step: str, event: str, **fields: Any) -> None:
    """Record a step's `started`, `progress` or `finished` event for the waiting parent."""
    path = os.environ.get(PROGRESS_FILE_VARIABLE)
    if not path:
        return
    now = time.monotonic()
    if event == "progress":
        if now - _last_update.get(step, 0.0) < MIN_UPDATE_SECONDS:
            return
        _last_update[step] = now
    line = json.dumps({"step": step, "event": event, "at": time.time(), **fields})
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    except OSError:
        pass  # progress is a courtesy: never fail a run over it


def describe(fields: dict[str, Any]) -> str:
    """The figures of an event, as a reader wants them: `3/12 files, 1,234,567 rows`."""
    parts = []
    if "files_total" in fields:
        parts.append(f"{fields.get('files_done', 0):,}/{fields['files_total']:,} files")
    if "rows" in fields:
        parts.append(f"{fields['rows']:,} rows")
    if "batches_total" in fields:
        parts.append(f"{fields.get('batches_done', 0):,}/{fields['batches_total']:,} batches")
    if "nodes_total" in fields:
        parts.append(f"{fields.get('nodes_done', 0):,}/{fields['nodes_total']:,} dbt nodes")
    if fields.get("detail"):
        parts.append(printable(str(fields["detail"])))
    return ", ".join(parts)


class ProgressPrinter:
    """Follows a progress file written by the child and prints what it says."""

    def __init__(self, path: Path, stream: IO[str], started: float) -> None:
        self.path = path
        self.stream = stream
        self.started = started
        self.offset = 0
        self.partial = ""
        self.interactive = bool(getattr(stream, "isatty", lambda: False)())
        self.step_started: dict[str, float] = {}
        self.live_line = False

    def poll(self) -> None:
        """Print every event written since the last poll."""
        try:
            with open(self.path, encoding="utf-8") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
                self.offset = handle.tell()
        except FileNotFoundError:
            return
        text = self.partial + chunk
        lines = text.split("\n")
        self.partial = lines.pop()  # an unfinished last line waits for the next poll
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            self._show(event)

    def announce(self, text: str) -> None:
        """A line of the parent's own, on a terminal only."""
        if self.interactive:
            self._end_live_line()
            self._write(f"{self._elapsed(time.time())} {printable(text)}\n")

    def close(self) -> None:
        self.poll()
        self._end_live_line()

    def _elapsed(self, at: float) -> str:
        return f"[{at - self.started:7.1f}s]"

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def _end_live_line(self) -> None:
        if self.live_line:
            self._write("\n")
            self.live_line = False

    def _show(self, event: dict[str, Any]) -> None:
        step, kind, at = str(event.get("step")), event.get("event"), float(event.get("at", 0))
        figures = describe(event)
        if kind == "started":
            self.step_started[step] = at
            if self.interactive:
                self._end_live_line()
                self._write(f"{self._elapsed(at)} {step} started\n")
        elif kind == "progress":
            if self.interactive:
                # Rewritten in place: \r back to the start, clear to the end of the line.
                self._write(f"\r\x1b[K{self._elapsed(at)} {step}: {figures}")
                self.live_line = True
        elif kind == "finished":
            self._end_live_line()
            seconds = at - self.step_started.get(step, at)
            status = event.get("status", "done")
            self._write(
                f"{self._elapsed(at)} {step} {status} in {seconds:.1f}s"
                + (f": {figures}" if figures else "")
                + "\n"
            )
