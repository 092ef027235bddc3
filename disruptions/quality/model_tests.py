"""The results of dbt's checks on the models, as the pipeline acts on them.

dbt owns every check on models (contracts, keys, accepted values, the reconciliation of
the marts and the independent recount from the sources); this module only reads what a
`dbt build` reported (run_results.json, with manifest.json for each test's model, column
and severity), records every test's outcome in audit.dbt_test_results (the report shows
them beside the load validations), and alerts:

- a test with severity error that failed, or any node that errored, blocks publication:
  one critical alert naming each such test (the build step then fails);
- a test with severity warn that failed: one warning alert, and the night goes on.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from disruptions.config import Settings
from disruptions.quality.alerts import raise_alert

log = logging.getLogger(__name__)

BLOCKING_STATUSES = {"fail", "error", "runtime error"}


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    resource_type: str  # test, model, seed, ...
    name: str  # the node's name, e.g. unique_ocg_disruption_summary_ocg_id
    test_type: str | None  # the generic test (unique, expression_is_true) or "singular"
    model: str | None  # the model or source a test is attached to
    column_name: str | None
    severity: str | None  # error | warn, for tests
    status: str  # pass, warn, fail, error, skipped, success
    failures: int | None
    message: str

    @property
    def blocks_publication(self) -> bool:
        return self.status in BLOCKING_STATUSES

    def describe(self) -> str:
        what = self.test_type if self.resource_type == "test" else self.resource_type
        on = self.model or ""
        if self.column_name:
            on += f".{self.column_name}"
        text = f"{self.name} ({what} on {on})" if on else f"{self.name} ({what})"
        if self.failures:
            text += f": {self.failures} failing row(s)"
        elif self.status in ("error", "runtime error") and self.message:
            text += f": {' '.join(self.message.split())[:300]}"
        return text


def read_node_results(target_dir: Path) -> list[NodeResult]:
    """Every node of the last dbt invocation, with what the manifest says of it."""
    try:
        results = json.loads((target_dir / "run_results.json").read_text(encoding="utf-8"))
        manifest = json.loads((target_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    sources = manifest.get("sources", {})
    found = []
    for result in results.get("results", []):
        unique_id = result.get("unique_id", "")
        node = nodes.get(unique_id, {})
        attached = node.get("attached_node") or next(
            (uid for uid in (node.get("depends_on") or {}).get("nodes", []) if uid in sources),
            None,
        )
        model = None
        if attached:
            parent = nodes.get(attached) or sources.get(attached) or {}
            model = parent.get("name")
            if attached in sources:
                model = f"{parent.get('source_name')}.{model}"
        metadata = node.get("test_metadata") or {}
        found.append(
            NodeResult(
                unique_id=unique_id,
                resource_type=node.get("resource_type", unique_id.split(".", 1)[0]),
                name=node.get("name", unique_id),
                test_type=metadata.get("name") or ("singular" if "test." in unique_id else None),
                model=model,
                column_name=node.get("column_name"),
                severity=(node.get("config") or {}).get("severity"),
                status=str(result.get("status")),
                failures=result.get("failures"),
                message=str(result.get("message") or ""),
            )
        )
    return found


def record_model_tests(
    con: duckdb.DuckDBPyConnection, run_id: str, as_of: date, results: list[NodeResult]
) -> None:
    """One row per data test of this build in audit.dbt_test_results."""
    rows = [
        [
            run_id,
            as_of,
            result.name,
            result.test_type,
            result.model,
            result.column_name,
            (result.severity or "").lower() or None,
            result.status,
            result.failures,
            " ".join(result.message.split())[:1000] or None,
            datetime.now(UTC).replace(tzinfo=None),
        ]
        for result in results
        if result.resource_type == "test"
    ]
    if rows:
        con.executemany(
            "INSERT INTO audit.dbt_test_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )


def alert_model_tests(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    as_of: date,
    results: list[NodeResult],
) -> list[int]:
    """One alert: critical, naming every blocking failure (and any warnings), when the build
    failed; otherwise a warning listing the warnings, if any."""
    blocking = [result for result in results if result.blocks_publication]
    warnings = [result for result in results if result.status == "warn"]
    if blocking:
        first = blocking[0]
        also = (
            "\nAlso warned:\n- " + "\n- ".join(result.describe() for result in warnings)
            if warnings
            else ""
        )
        return [
            raise_alert(
                settings,
                severity="critical",
                source="dbt_test",
                subject=(
                    f"dbt {first.resource_type} {first.name} failed"
                    + (f" (and {len(blocking) - 1} more)" if len(blocking) > 1 else "")
                    + "; publishing blocked"
                ),
                message=(
                    f"The build for as_of {as_of.isoformat()} failed:\n- "
                    + "\n- ".join(result.describe() for result in blocking)
                    + "\nNothing is published: the previous publication stays in place."
                    + also
                ),
                details={
                    "as_of": as_of.isoformat(),
                    "failures": [_details(result) for result in blocking],
                    "warnings": [_details(result) for result in warnings],
                },
                run_id=run_id,
                con=con,
            )
        ]
    if warnings:
        return [
            raise_alert(
                settings,
                severity="warning",
                source="dbt_test",
                subject=f"dbt: {len(warnings)} test warning(s), build for {as_of.isoformat()}",
                message="The build passed, with warnings:\n- "
                + "\n- ".join(result.describe() for result in warnings),
                details={
                    "as_of": as_of.isoformat(),
                    "warnings": [_details(result) for result in warnings],
                },
                run_id=run_id,
                con=con,
            )
        ]
    return []


def _details(result: NodeResult) -> dict:
    return {
        "test": result.name,
        "type": result.test_type or result.resource_type,
        "model": result.model,
        "column": result.column_name,
        "status": result.status,
        "failing_rows": result.failures,
        "message": " ".join(result.message.split())[:300],
    }
