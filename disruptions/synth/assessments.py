"""Threat scores, where the disruptions leave their mark, and the assessment rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from disruptions.synth.claims import Claims, Context
from disruptions.synth.columns import ASSESSMENT_SCHEMA, _iso_dates, _ocg_ids, _take
from disruptions.synth.country import (
    ARCHIVE_REASONS,
    FATE_HAS_EFFECT,
    PRINCIPAL_ACTIVITIES,
    SCORE_DRIFT_PER_ASSESSMENT,
    SCORE_EFFECT_BY_IMPACT,
    SCORE_NOISE_SD,
    SCORE_PULL_TO_BASE,
    band_for_score,
)
from disruptions.synth.ocgs import NO_ASSESSMENT, Ocgs
from disruptions.synth.streams import STREAM_RESENDS, STREAM_SCORES, _rng


class EffectGrid:
    """Sum of true disruption effects landing on each (OCG, assessment slot).

    A disruption on day d affects the OCG's first assessment made after d: an assessment on
    the same day is the baseline the marts compare against, so it must not see the effect.
    """

    def __init__(self, ocgs: Ocgs) -> None:
        self.days = ocgs.assessment_days
        self.slots = self.days.shape[1]
        # Flattened keys sorted by (ocg, day); empty slots sort last within their OCG.
        self.keys = (np.arange(ocgs.count, dtype=np.int64)[:, None] * 2**32 + self.days).ravel()
        self.counts = ocgs.assessment_count
        self.effect = np.zeros(self.keys.shape, dtype=np.float64)

    def add(self, ctx: Context, claims: Claims, rng: np.random.Generator) -> None:
        effect = (
            SCORE_EFFECT_BY_IMPACT[claims.true_impact]
            * FATE_HAS_EFFECT[claims.fate]
            * rng.uniform(0.5, 1.5, len(claims.ocg))
            * ctx.effect_scale
        )
        claim_keys = claims.ocg.astype(np.int64) * 2**32 + claims.day
        position = np.searchsorted(self.keys, claim_keys, side="right")
        slot = position - claims.ocg * self.slots
        lands = slot < self.counts[claims.ocg]
        self.effect += np.bincount(
            position[lands], weights=effect[lands], minlength=len(self.effect)
        )

    def per_slot(self) -> np.ndarray:
        return self.effect.reshape(-1, self.slots)


def _threat_scores(ctx: Context, grid: EffectGrid) -> np.ndarray:
    """Walk each OCG's score from one assessment to the next; a float (ocg, slot) grid."""
    rng = _rng(ctx.seed, STREAM_SCORES)
    ocgs = ctx.ocgs
    effect = grid.per_slot()
    scores = np.empty(effect.shape)
    first = ocgs.base_threat + effect[:, 0] + rng.normal(0, SCORE_NOISE_SD, ocgs.count)
    scores[:, 0] = np.clip(first, 0, 100)
    # One slot at a time (noise included) keeps memory to one extra grid at any scale.
    for slot in range(1, grid.slots):
        previous = scores[:, slot - 1]
        pull = SCORE_PULL_TO_BASE * (ocgs.base_threat - previous)
        noise = rng.normal(0, SCORE_NOISE_SD, ocgs.count)
        step = SCORE_DRIFT_PER_ASSESSMENT + pull + effect[:, slot] + noise
        scores[:, slot] = np.clip(previous + step, 0, 100)
    return np.rint(scores, out=scores)


def _assessment_table(ctx, ocg, day, score, reason) -> pa.Table:
    """Assessment rows; `reason` is an index into ARCHIVE_REASONS, or -1 while active."""
    ocgs = ctx.ocgs
    members = np.rint(ocgs.base_members[ocg] * (0.5 + score / 100)).astype(np.int64)
    archived = reason >= 0
    return pa.table(
        [
            _ocg_ids(ocg),
            _iso_dates(day),
            pa.array(score.astype(np.int64)),
            _take(ctx.ref.bands, band_for_score(score, ctx.ref.bands)),
            _take(("active", "archived"), archived.astype(np.int64)),
            pc.if_else(
                pa.array(archived),
                _take(ARCHIVE_REASONS, np.maximum(reason, 0)),
                pa.scalar(None, pa.string()),
            ),
            _take(ctx.ref.forces, ocgs.lead_force[ocg]),
            _take(tuple(PRINCIPAL_ACTIVITIES), ocgs.activity[ocg]),
            pa.array(members),
        ],
        schema=ASSESSMENT_SCHEMA,
    )


@dataclass
class AssessmentRows:
    table: pa.Table
    ocg: np.ndarray  # the OCG of each row
    day: np.ndarray  # assessed_on of each row, as a day number


def _assessment_rows(
    ctx: Context, scores: np.ndarray, start: int, stop: int
) -> tuple[AssessmentRows, AssessmentRows]:
    """Assessment rows of OCGs start..stop-1, and the few re-sent with a corrected score.

    A correction has the same (ocg_id, assessed_on) as its original and must be loaded after
    it, so it is written to a file of its own (see `_write_resent`).
    """
    ocgs = ctx.ocgs
    rng = _rng(ctx.seed, STREAM_RESENDS, start)
    ocg, slot = np.nonzero(ocgs.assessment_days[start:stop] != NO_ASSESSMENT)
    ocg += start
    day = ocgs.assessment_days[ocg, slot]
    score = scores[ocg, slot].astype(np.int64)
    is_archive = (slot == ocgs.assessment_count[ocg] - 1) & (ocgs.archive_reason[ocg] >= 0)
    reason = np.where(is_archive, ocgs.archive_reason[ocg], -1)
    originals = AssessmentRows(_assessment_table(ctx, ocg, day, score, reason), ocg, day)

    fixed = np.flatnonzero(~is_archive & (rng.random(len(day)) < 0.005))
    fix = rng.integers(3, 12, len(fixed)) * rng.choice([-1, 1], len(fixed))
    # Correct away from 0 and 100, so the corrected score always differs.
    fixed_score = score[fixed] + fix
    fixed_score = np.where((fixed_score < 0) | (fixed_score > 100), score[fixed] - fix, fixed_score)
    corrections = AssessmentRows(
        _assessment_table(ctx, ocg[fixed], day[fixed], fixed_score, reason[fixed]),
        ocg[fixed],
        day[fixed],
    )
    return originals, corrections
