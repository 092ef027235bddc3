"""`disruptions demo`: the national synthetic sample, through the real nightly DAG.

The sample is deterministic (fixed seed and end date), so the figures it prints are the
same on every machine. It is written once: a second demo on the same home finds the same
sample in place and goes straight to the run, whose ingest then loads nothing new.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import IO

from disruptions.config import Settings
from disruptions.engines import open_published
from disruptions.reference import read_reference
from disruptions.runner import run_nightly

# The bundled national sample: what `disruptions generate` writes by default.
DEMO_SAMPLE = {"ocgs": 4500, "disruptions": 65000, "seed": 2015, "file_format": "csv"}


def _marker_path(settings: Settings) -> Path:
    # Beside the landing folder rather than in it: the landing folder belongs to senders.
    return settings.home / "demo-sample.json"


def _sample_in_place(settings: Settings, wanted: dict) -> dict | None:
    """The recorded sample, if it is the one wanted and every file is still there unchanged."""
    marker = _marker_path(settings)
    if not marker.exists():
        return None
    recorded = json.loads(marker.read_text(encoding="utf-8"))
    if recorded.get("parameters") != wanted or recorded.get("landing") != str(settings.landing):
        return None
    for relative, size in recorded.get("files", {}).items():
        path = settings.landing / relative
        if not path.is_file() or path.stat().st_size != size:
            return None
    return recorded


def ensure_demo_sample(settings: Settings) -> dict:
    """Write the national sample into the landing folder unless it is already there."""
    from disruptions.synth import generate_feeds

    wanted = {key: value for key, value in DEMO_SAMPLE.items()}
    recorded = _sample_in_place(settings, wanted)
    if recorded is not None:
        recorded["generated_now"] = False
        return recorded
    summary = generate_feeds(settings.landing, with_bad_input=True, **DEMO_SAMPLE)
    files = [*summary.files, *summary.bad_files]
    recorded = {
        "parameters": wanted,
        "landing": str(settings.landing),
        "end_date": summary.end_date.isoformat(),
        "rows": summary.rows,
        "bad_rows": summary.bad_rows,
        "files": {
            str(Path(path).resolve().relative_to(settings.landing)): Path(path).stat().st_size
            for path in files
        },
    }
    _marker_path(settings).write_text(json.dumps(recorded, indent=2), encoding="utf-8")
    recorded["generated_now"] = True
    return recorded


def _headlines(settings: Settings) -> list[str]:
    """A few figures read back from the published file, as a performance lead would, with
    the level and effect names of the published reference tables."""
    with open_published(settings) as con:
        reference = read_reference(con)
        ocgs, disrupted, total, net, pending = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE total_disruptions > 0), "
            "sum(total_disruptions), sum(net_disruption_score), sum(pending_claims) "
            "FROM marts.ocg_disruption_summary"
        ).fetchone()
        levels = list(reference.impact_levels)
        by_level = con.execute(
            "SELECT "
            + ", ".join(f'coalesce(sum("{level.impact}_count"), 0)' for level in levels)
            + " FROM marts.ocg_disruption_summary"
        ).fetchone()
        effects = dict(
            con.execute(
                "SELECT effect_12m, count(*) FROM marts.ocg_long_term_effect GROUP BY 1"
            ).fetchall()
        )
        loaded, quarantined = con.execute(
            "SELECT coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0) "
            "FROM audit.load_batches"
        ).fetchone()
        statuses = con.execute(
            "SELECT status, count(*) FROM audit.load_batches GROUP BY 1 ORDER BY 1"
        ).fetchall()
    counts = dict(zip(levels, by_level, strict=True))
    disruptions = ", ".join(
        f"{level.label.lower()} {counts[level]:,}" for level in levels if level.is_disruption
    )
    not_disruptions = ", ".join(
        f"impact {level.label.lower()} {counts[level]:,}"
        for level in levels
        if not level.is_disruption
    )
    lines = [
        f"  files: {', '.join(f'{count} {status}' for status, count in statuses)}; "
        f"rows loaded {loaded:,}, quarantined {quarantined:,}",
        f"  OCGs: {ocgs:,}, of which {disrupted:,} disrupted; counted disruptions {total:,} "
        f"({disruptions}; not counted as disruptions: {not_disruptions}); net score {net:,}; "
        f"pending claims {pending:,}",
    ]
    # Shares of the OCGs whose 12-month effect could be measured (the outcome effects).
    outcomes = [category for category in reference.effect_categories if category.is_outcome]
    measured = sum(effects.get(category.effect, 0) for category in outcomes)
    if measured:
        shares = ", ".join(
            f"{category.label.lower()} {100 * effects.get(category.effect, 0) / measured:.0f}%"
            for category in outcomes
        )
        lines.append(
            f"  12 months after their first disruption, of {measured:,} measured: {shares}"
        )
    return lines


def run_demo(settings: Settings, progress_stream: IO[str] | None = None) -> str:
    """Generate (or reuse) the national sample, run the nightly DAG on it, summarise."""
    started = time.monotonic()
    settings.ensure_dirs()
    sample = ensure_demo_sample(settings)
    generated = time.monotonic() - started
    run_summary = run_nightly(
        settings, as_of=_iso_date(sample["end_date"]), progress_stream=progress_stream
    )
    lines = [
        f"demo sample: {sample['rows'].get('disruptions', 0):,} disruption rows and "
        f"{sample['rows'].get('ocg_assessments', 0):,} assessment rows "
        f"({sample['bad_rows']} deliberately bad rows plus bad files) in {settings.landing}"
        + (f", generated in {generated:.1f}s" if sample["generated_now"] else ", already there"),
        run_summary,
        "headline figures (published marts, as of " + sample["end_date"] + "):",
        *_headlines(settings),
        f"report:    {settings.report_path}",
        f"data docs: {settings.data_docs_dir / 'index.html'}",
        f"dbt docs:  {settings.dbt_docs_dir / 'index.html'}",
        f'query it:  disruptions query "SELECT * FROM marts.ocg_disruption_summary LIMIT 5" '
        f"--home {settings.home}",
        f"demo finished in {time.monotonic() - started:.1f}s",
    ]
    return "\n".join(lines)


def _iso_date(value: str):
    from datetime import date

    return date.fromisoformat(value)
