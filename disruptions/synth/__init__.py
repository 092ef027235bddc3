"""Deterministic synthetic feeds: a national sample of OCG assessments and disruption claims.

Nothing here is real. Every OCG, operation, officer, source and address is invented, and every
rationale starts with "SENSITIVE:" so tests can prove that free text never leaves the raw layer.

How the sample is made (docs/synthetic-data.md has the full story):
1. OCGs: a lead force (weighted by force size), an activity, a base threat, a life span
   (some are archived: mostly dismantled) and a schedule of irregular re-assessments.
2. Claims, in chunks: each claim targets an OCG inside its life span and goes through
   versions (claimed, then approved / rejected / withdrawn / re-graded). Every chunk is
   written as soon as it is made, and its true effects are added to a per-assessment grid.
3. Assessments: each OCG's threat score walks from one assessment to the next, pushed by the
   disruptions in between (major lowers it, negative raises it). That is the causal signal
   the long-term-effect marts are meant to find.

Everything is vectorised with numpy and every random stream is seeded from (seed, purpose,
chunk), so the same arguments give byte-identical files at any scale.

The package, one idea per module, each module using only those listed before it:

- `country`: how the country looks (shares, weights, invented names) and the seeds' codes;
- `streams`: the seeded random streams;
- `columns`: the feeds' columns and the Arrow column helpers both feeds use;
- `ocgs`: the OCGs and their assessment schedule;
- `claims`: claims in chunks, their versions, and their rows;
- `assessments`: threat scores and the assessment rows;
- `files`: writing the feed files;
- `bad_input`: deliberately bad rows and files;
- `increment`: what one later night adds.

This module holds the entry points. A leading underscore means private to the package, not
to the module: the modules import each other's helpers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from disruptions.synth.assessments import EffectGrid, _assessment_rows, _threat_scores
from disruptions.synth.bad_input import (
    ASSESSMENT_SPOILERS,
    BAD_FEEDS_FOLDER,
    CLAIM_SPOILERS,
    _spoil_rows,
    _write_bad_files,
)
from disruptions.synth.claims import _claim_chunks, _claim_table, _context, _make_claims
from disruptions.synth.columns import ASSESSMENT_SCHEMA, DISRUPTION_COLUMNS, DISRUPTION_SCHEMA
from disruptions.synth.country import ARCHIVE_REASONS, STATUSES, Reference, band_for_score
from disruptions.synth.files import FeedFiles, _write_by_sender_year, _write_resent
from disruptions.synth.increment import _amend_claims, _reassessments
from disruptions.synth.ocgs import ASSESSMENT_BLOCK_OCGS
from disruptions.synth.streams import (
    STREAM_BAD_ASSESSMENTS,
    STREAM_BAD_CLAIMS,
    STREAM_EFFECTS,
    STREAM_INCREMENT,
    _day_number,
    _rng,
)

__all__ = [
    "ARCHIVE_REASONS",
    "ASSESSMENT_SCHEMA",
    "BAD_FEEDS_FOLDER",
    "DEFAULT_END_DATE",
    "DISRUPTION_COLUMNS",
    "DISRUPTION_SCHEMA",
    "FILE_FORMATS",
    "LAYOUTS",
    "STATUSES",
    "GenerateSummary",
    "band_for_score",
    "generate_feeds",
    "generate_increment",
]

DEFAULT_END_DATE = date(2026, 10, 31)
LAYOUTS = ("by_sender_year", "single")
FILE_FORMATS = ("csv", "parquet", "jsonl")


# --- the summary the CLI prints -------------------------------------------------------------
@dataclass
class GenerateSummary:
    out_dir: Path
    end_date: date
    file_format: str
    layout: str
    files: list[Path] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    bad_rows: int = 0
    bad_files: list[Path] = field(default_factory=list)

    def __str__(self) -> str:
        counts = ", ".join(f"{feed} {count:,} rows" for feed, count in self.rows.items())
        text = (
            f"wrote {len(self.files)} {self.file_format} files to {self.out_dir} "
            f"(layout {self.layout}, end date {self.end_date.isoformat()}): {counts}"
        )
        if self.bad_rows or self.bad_files:
            text += (
                f"; deliberately bad: {self.bad_rows:,} rows inside normal files and "
                f"{len(self.bad_files)} files in {BAD_FEEDS_FOLDER}/"
            )
        return text


# --- the entry points -------------------------------------------------------------------------


def _check_arguments(ocgs: int, disruptions: int, file_format: str, layout: str) -> None:
    from disruptions.errors import UserError

    if file_format not in FILE_FORMATS:
        raise UserError(f"unknown file format {file_format!r}; use one of {FILE_FORMATS}")
    if layout not in LAYOUTS:
        raise UserError(f"unknown layout {layout!r}; use one of {LAYOUTS}")
    if ocgs < 1 or disruptions < 0:
        raise UserError("generate needs at least 1 OCG and a non-negative number of disruptions")


def generate_feeds(
    out_dir: Path,
    *,
    ocgs: int = 4500,
    disruptions: int = 65000,
    seed: int = 2015,
    with_bad_input: bool = False,
    file_format: str = "csv",
    end_date: date = DEFAULT_END_DATE,
    layout: str = "by_sender_year",
) -> GenerateSummary:
    """Write five years of assessments for `ocgs` OCGs and exactly `disruptions` claim rows.

    The same arguments always give byte-identical files. Memory stays flat however many rows
    are asked for: claims are made, written and forgotten one chunk at a time.
    """
    _check_arguments(ocgs, disruptions, file_format, layout)
    out_dir = Path(out_dir)
    ctx = _context(Reference.from_seeds(), ocgs, disruptions, seed, end_date)
    summary = GenerateSummary(out_dir, end_date, file_format, layout)
    files = FeedFiles(out_dir, file_format)
    grid = EffectGrid(ctx.ocgs)
    for chunk, claims in enumerate(_claim_chunks(ctx, disruptions)):
        grid.add(ctx, claims, _rng(seed, STREAM_EFFECTS, chunk))
        table = _claim_table(ctx, claims)
        if with_bad_input:
            table, bad = _spoil_rows(table, _rng(seed, STREAM_BAD_CLAIMS, chunk), CLAIM_SPOILERS)
            summary.bad_rows += bad
        sent_day = claims.row_seconds // 86400
        sender = claims.force_area[claims.row_claim]
        _write_by_sender_year(files, ctx, "disruptions", table, sender, sent_day, layout)

    scores = _threat_scores(ctx, grid)
    for block, start in enumerate(range(0, ctx.ocgs.count, ASSESSMENT_BLOCK_OCGS)):
        stop = min(start + ASSESSMENT_BLOCK_OCGS, ctx.ocgs.count)
        originals, corrections = _assessment_rows(ctx, scores, start, stop)
        table = originals.table
        if with_bad_input:
            rng = _rng(seed, STREAM_BAD_ASSESSMENTS, block)
            table, bad = _spoil_rows(table, rng, ASSESSMENT_SPOILERS)
            summary.bad_rows += bad
        sender = ctx.ocgs.lead_force[originals.ocg]
        _write_by_sender_year(files, ctx, "ocg_assessments", table, sender, originals.day, layout)
        # A single file cannot carry a correction after its original without repeating a
        # key inside one batch, so the single layout has no re-sent rows.
        if layout == "by_sender_year" and corrections.table.num_rows:
            _write_resent(files, corrections)

    summary.files = files.close()
    summary.rows = {"disruptions": files.rows.get("disruptions", 0),
                    "ocg_assessments": files.rows.get("ocg_assessments", 0)}  # fmt: skip
    if with_bad_input:
        summary.bad_files = _write_bad_files(out_dir, ctx)
    return summary


def generate_increment(
    out_dir: Path,
    *,
    base_ocgs: int,
    base_disruptions: int,
    seed: int,
    fraction: float = 0.01,
    file_format: str = "csv",
    end_date: date = DEFAULT_END_DATE,
    night: date | None = None,
) -> GenerateSummary:
    """One night's further files on top of the sample `generate_feeds` made with these
    base arguments (same seed, ocgs, disruptions and end date).

    About `fraction` × base_disruptions rows: half new claims dated on `night` (default: the
    day after end_date), half amendments recorded on `night` of existing claims (pending ones
    approved or rejected, else approved ones withdrawn or re-graded). Plus re-assessments on
    `night` of about `fraction` of the active mapped OCGs.
    """
    _check_arguments(base_ocgs, base_disruptions, file_format, "single")
    out_dir = Path(out_dir)
    night = night or end_date + timedelta(days=1)
    night_day = _day_number(night)
    ctx = _context(Reference.from_seeds(), base_ocgs, base_disruptions, seed, end_date)
    rng = _rng(seed, STREAM_INCREMENT)
    rows = max(2, round(fraction * base_disruptions))

    files = FeedFiles(out_dir, file_format)
    stamp = night.strftime("%Y%m%d")
    new_claims = _make_claims(ctx, rng, rows - rows // 2, 1, night_day, fixed_day=night_day)
    claims_file = f"disruptions_increment_{stamp}.{file_format}"
    files.write(claims_file, "disruptions", _claim_table(ctx, new_claims, f"DIS-{stamp}-"))
    first_chunk = next(_claim_chunks(ctx, base_disruptions), None)
    if first_chunk is not None:
        amended = _amend_claims(first_chunk, rng, rows // 2, night_day)
        files.write(claims_file, "disruptions", _claim_table(ctx, amended))
    assessments = _reassessments(ctx, rng, fraction, base_disruptions, night_day)
    if assessments.num_rows:
        files.write(f"ocg_assessments_increment_{stamp}.{file_format}", "ocg_assessments",
                    assessments)  # fmt: skip

    summary = GenerateSummary(out_dir, night, file_format, "single")
    summary.files = files.close()
    summary.rows = dict(files.rows)
    return summary
