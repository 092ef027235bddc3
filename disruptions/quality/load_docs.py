"""The load-validation pages (`reports/data_docs/`): every Great Expectations validation of
a loaded batch, and every feed suite, as plain HTML a steward can open anywhere.

These replace GX's own Data Docs site, which loads jQuery, Bootstrap, Font Awesome and
Vega from public CDNs and GX's logo from a public bucket (with the data context id in the
address), so on a closed police network it shows an empty page and phones home, and which
renders sample values as live HTML. Here every page is one self-contained file: inline
CSS, no script, no address a browser would fetch, and every value escaped by Jinja.

The pages are drawn from what validation recorded in the warehouse
(audit.batch_validations: each expectation's result, scrubbed of sensitive values) and
the suites' JSON, so building them needs no Great Expectations import.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment
from markupsafe import Markup, escape

from disruptions.config import EXPECTATIONS_DIR, Settings
from disruptions.logs import printable
from disruptions.serve.files import new_folder_mode
from disruptions.templating import html_environment
from disruptions.warehouse import open_warehouse

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# The index lists this many validations, newest first, each with its own page.
VALIDATIONS_SHOWN = 500
FEED_SUITES = {"disruptions": "disruptions_batch", "ocg_assessments": "ocg_assessments_batch"}

VALIDATIONS_SQL = """
    WITH decisions AS (
        SELECT batch_id, arg_max(decision, decided_at) AS decision
        FROM audit.batch_decisions GROUP BY batch_id
    )
    SELECT v.batch_id, v.suite_name, v.success, v.critical_failures, v.warning_failures,
           v.validated_at, v.run_id, v.summary, b.feed, b.source_file, b.status,
           b.rows_read, b.rows_loaded, b.rows_quarantined, d.decision,
           row_number() OVER (PARTITION BY v.batch_id ORDER BY v.validated_at) AS number
    FROM audit.batch_validations AS v
    LEFT JOIN audit.load_batches AS b USING (batch_id)
    LEFT JOIN decisions AS d USING (batch_id)
    ORDER BY v.validated_at DESC, v.batch_id DESC
    LIMIT $limit
"""


def _breakable(text: object) -> Markup:
    """Escaped text that may wrap after each underscore (long expectation names)."""
    return Markup("_<wbr>").join(escape(part) for part in str(text).split("_"))


def _environment() -> Environment:
    environment = html_environment(TEMPLATES_DIR)
    # A sender's file name may hold line breaks or escapes: show them, escaped.
    environment.filters["printable"] = printable
    environment.filters["breakable"] = _breakable
    return environment


def load_suite(name: str) -> dict:
    return json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def _outcome(row: dict) -> str:
    if row["critical_failures"]:
        return "held"
    if row["warning_failures"]:
        return "warnings"
    return "passed"


def _batch_now(row: dict) -> str:
    """The batch's standing today, which a steward's decision may have changed."""
    if row["decision"] == "discarded":
        return "discarded"
    if row["decision"] == "released":
        return "released"
    return row["status"] or "unknown"


def read_validations(con: duckdb.DuckDBPyConnection, limit: int = VALIDATIONS_SHOWN) -> list:
    cursor = con.execute(VALIDATIONS_SQL, {"limit": limit})
    columns = [column[0] for column in cursor.description]
    validations = []
    for values in cursor.fetchall():
        row = dict(zip(columns, values, strict=True))
        summary = json.loads(row.pop("summary") or "{}")
        row["summary"] = summary
        results = summary.get("results") or summary.get("failures") or []
        # Failures first, critical before warning; then what passed.
        row["results"] = sorted(
            results,
            key=lambda r: (bool(r.get("success")), r.get("severity") != "critical"),
        )
        row["together_with"] = summary.get("validated_with_batches") or []
        row["outcome"] = _outcome(row)
        row["batch_now"] = _batch_now(row)
        row["page"] = f"validations/batch-{row['batch_id']}-{row['number']}.html"
        validations.append(row)
    return validations


def _suite_view(name: str) -> dict[str, Any]:
    suite = load_suite(name)
    expectations = [
        {
            "type": expectation["type"],
            "severity": expectation.get("meta", {}).get("severity", ""),
            "why": expectation.get("meta", {}).get("why", ""),
            "kwargs": json.dumps(expectation.get("kwargs", {}), indent=1, ensure_ascii=False),
        }
        for expectation in suite["expectations"]
    ]
    return {
        "name": name,
        "description": suite.get("meta", {}).get("description", ""),
        "expectations": expectations,
        "critical": sum(1 for e in expectations if e["severity"] == "critical"),
        "warning": sum(1 for e in expectations if e["severity"] == "warning"),
        "page": f"suites/{name}.html",
    }


def build_load_docs(settings: Settings) -> Path:
    """Write reports/data_docs/index.html and its pages; return the index."""
    with open_warehouse(settings) as con:
        validations = read_validations(con)
    suites = [_suite_view(name) for name in FEED_SUITES.values()]
    generated_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    counts = {
        outcome: sum(1 for v in validations if v["outcome"] == outcome)
        for outcome in ("passed", "warnings", "held")
    }
    environment = _environment()
    pages = {
        "index.html": environment.get_template("load_docs_index.html.j2").render(
            validations=validations,
            suites=suites,
            counts=counts,
            generated_at=generated_at,
            shown=VALIDATIONS_SHOWN,
            root="",
        )
    }
    for validation in validations:
        pages[validation["page"]] = environment.get_template("load_docs_validation.html.j2").render(
            v=validation, generated_at=generated_at, root="../"
        )
    for suite in suites:
        pages[suite["page"]] = environment.get_template("load_docs_suite.html.j2").render(
            suite=suite, generated_at=generated_at, root="../"
        )
    _replace_folder(settings.data_docs_dir, pages)
    return settings.data_docs_dir / "index.html"


def _replace_folder(folder: Path, pages: dict[str, str]) -> None:
    """Write the pages into a fresh folder beside `folder`, then swap it in: a steward
    with the index open never meets a half-written site, and pages of validations no
    longer listed are gone."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for relative, html in pages.items():
            path = fresh / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(html, encoding="utf-8")
        os.chmod(fresh, new_folder_mode())
        old = folder.with_name(f".{folder.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.is_symlink() or folder.is_file():
            folder.unlink()
        elif folder.exists():
            folder.rename(old)
        fresh.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
