"""Feed rows for the ingest tests."""

from __future__ import annotations

DISRUPTION_HEADER = (
    "disruption_id,ocg_id,disruption_date,recorded_at,impact,strand,tactic,"
    "lead_agency,force_area,status,operation,rationale"
)
ASSESSMENT_HEADER = "ocg_id,assessed_on,threat_score,band,status,archive_reason,lead_force"


def disruption_row(
    disruption_id="D1",
    ocg_id="OCG1",
    disruption_date="2025-03-01",
    recorded_at="2025-03-01T10:00:00Z",
    impact="major",
    strand="pursue",
    tactic="arrest",
    lead_agency="NCA",
    force_area="MPS",
    status="approved",
    operation="Op Alpha",
    rationale="seized goods",
) -> str:
    return ",".join(
        [
            disruption_id,
            ocg_id,
            disruption_date,
            recorded_at,
            impact,
            strand,
            tactic,
            lead_agency,
            force_area,
            status,
            operation,
            rationale,
        ]
    )


def csv_text(header: str, *rows: str, newline: str = "\n") -> str:
    return newline.join([header, *rows]) + newline
