"""What one later night adds to a sample: amended claims and fresh assessments.

`generate_increment` (in __init__) writes them; the base sample itself is never read, only
regenerated from the same arguments.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa

from disruptions.synth.assessments import EffectGrid, _assessment_table, _threat_scores
from disruptions.synth.claims import Claims, _claim_chunks
from disruptions.synth.country import INFLATED_IMPACT, STATUSES
from disruptions.synth.streams import STREAM_EFFECTS, _rng


def _amend_claims(base: Claims, rng: np.random.Generator, count: int, night_day: int) -> Claims:
    """New versions, recorded on `night_day`, of claims the base sample already holds."""
    claim_count = len(base.ordinal)
    last_row = np.searchsorted(base.row_claim, np.arange(claim_count), side="right") - 1
    last_status = base.row_status[last_row]
    pending = np.flatnonzero(last_status == STATUSES.index("claimed"))
    approved = np.flatnonzero(last_status == STATUSES.index("approved"))
    # Pending claims are decided first; approved ones make up the rest.
    chosen = np.concatenate([rng.permutation(pending), rng.permutation(approved)])[:count]
    chosen = np.sort(chosen)
    was_pending = last_status[chosen] == STATUSES.index("claimed")
    draw = rng.random(len(chosen))
    status = np.where(
        was_pending,
        np.where(draw < 0.85, STATUSES.index("approved"), STATUSES.index("rejected")),
        np.where(draw < 0.3, STATUSES.index("withdrawn"), STATUSES.index("approved")),
    )
    impact = base.row_impact[last_row[chosen]]
    regraded = ~was_pending & (status == STATUSES.index("approved"))
    impact = np.where(regraded, INFLATED_IMPACT[impact], impact)
    return replace(
        base,
        row_claim=chosen,
        row_status=status,
        row_impact=impact,
        row_seconds=night_day * 86400 + rng.integers(7 * 3600, 22 * 3600, len(chosen)),
    )


def _reassessments(ctx, rng, fraction, base_disruptions, night_day) -> pa.Table:
    """Fresh scores on `night_day` for some active groups, continuing their trajectory."""
    grid = EffectGrid(ctx.ocgs)
    for chunk, claims in enumerate(_claim_chunks(ctx, base_disruptions)):
        grid.add(ctx, claims, _rng(ctx.seed, STREAM_EFFECTS, chunk))
    scores = _threat_scores(ctx, grid)
    ocgs = ctx.ocgs
    candidates = np.flatnonzero((ocgs.archive_reason < 0) & (ocgs.assessment_count > 0))
    count = min(len(candidates), max(1, round(fraction * ocgs.assessment_count.sum())))
    ocg = np.sort(rng.choice(candidates, size=count, replace=False))
    last_score = scores[ocg, ocgs.assessment_count[ocg] - 1]
    score = np.clip(np.rint(last_score + rng.normal(1.0, 4.0, count)), 0, 100).astype(np.int64)
    return _assessment_table(ctx, ocg, np.full(count, night_day), score, np.full(count, -1))
