"""Feed files for the bad-input tests: good rows to surround them, and the hostile ones."""

from __future__ import annotations

import csv
import io
import json

from disruptions.feeds import FEED_COLUMN_NAMES

SENTINEL = "RATIONALE-SENTINEL-7f3a"
NOTES_SENTINEL = "NOTES-SENTINEL-91c2"

DISRUPTION_COLUMNS = list(FEED_COLUMN_NAMES["disruptions"])
ASSESSMENT_COLUMNS = list(FEED_COLUMN_NAMES["ocg_assessments"])


def disruption(**values) -> dict:
    row = {
        "disruption_id": "D-1",
        "ocg_id": "OCG-GOOD-1",
        "disruption_date": "2026-03-01",
        "recorded_at": "2026-03-02T10:00:00Z",
        "impact": "major",
        "strand": "pursue",
        "tactic": "arrest",
        "lead_agency": "NCA",
        "force_area": "GMP",
        "status": "approved",
        "operation": "Op Test",
        "rationale": f"{SENTINEL} informant detail",
    }
    row.update(values)
    return row


def assessment(**values) -> dict:
    row = {
        "ocg_id": "OCG-GOOD-1",
        "assessed_on": "2026-01-15",
        "threat_score": "40",
        "band": "1B",
        "status": "active",
        "archive_reason": "",
        "lead_force": "GMP",
        "principal_activity": "drugs supply",
        "member_count": "8",
    }
    row.update(values)
    return row


def csv_text(rows: list[dict], columns: list[str] | None = None, newline: str = "\n") -> str:
    columns = columns or list(rows[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return buffer.getvalue()


def jsonl_text(rows: list[dict]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def good_files() -> dict[str, str]:
    """Two valid files: they must be published whatever lies beside them."""
    return {
        "unit_a/ocg_assessments_2026.csv": csv_text(
            [
                assessment(ocg_id="OCG-GOOD-1"),
                assessment(ocg_id="OCG-GOOD-2", lead_force="MPS", band="2A"),
            ]
        ),
        "unit_a/disruptions_2026.csv": csv_text(
            [
                disruption(disruption_id="D-GOOD-1", ocg_id="OCG-GOOD-1"),
                disruption(disruption_id="D-GOOD-2", ocg_id="OCG-GOOD-2", impact="minor"),
            ]
        ),
    }
