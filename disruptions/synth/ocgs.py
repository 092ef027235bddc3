"""The OCGs: who they are, how long they live, and when they are assessed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from disruptions.synth.country import (
    ARCHIVE_FATE_SHARE,
    ARCHIVE_REASONS,
    FORCE_OCG_WEIGHT,
    OPERATION_WORDS,
    PRINCIPAL_ACTIVITIES,
    Reference,
)
from disruptions.synth.streams import STREAM_OCGS, STREAM_SCHEDULE, _pick, _rng

# OCGs per block when building and writing assessments.
ASSESSMENT_BLOCK_OCGS = 50_000


@dataclass
class Ocgs:
    """One array element per OCG. Days are days since 1970-01-01."""

    lead_force: np.ndarray
    activity: np.ndarray
    base_threat: np.ndarray
    base_members: np.ndarray
    operation: np.ndarray  # index into OPERATION_WORDS, or -1 for none
    archive_reason: np.ndarray  # index into ARCHIVE_REASONS, or -1 while active
    window_start: np.ndarray  # first day it can be disrupted
    window_end: np.ndarray  # last day it can be disrupted (its archive day, if archived)
    claim_share: np.ndarray  # probability that a claim targets it
    assessment_days: np.ndarray  # (ocg, k) sorted; NO_ASSESSMENT where there is none
    assessment_count: np.ndarray

    @property
    def count(self) -> int:
        return len(self.lead_force)


NO_ASSESSMENT = np.iinfo(np.int32).max


def _build_ocgs(ref: Reference, count: int, seed: int, end_day: int, start_day: int) -> Ocgs:
    rng = _rng(seed, STREAM_OCGS)
    weights = [FORCE_OCG_WEIGHT.get(force, 1.0) for force in ref.forces]
    lead_force = _pick(rng, weights, count)
    activity = _pick(rng, list(PRINCIPAL_ACTIVITIES.values()), count)
    base_threat = np.clip(rng.normal(48, 16, count), 8, 95)
    base_members = np.clip(rng.lognormal(2.2, 0.6, count), 3, 150)
    has_operation = rng.random(count) < 0.75
    operation = np.where(has_operation, rng.integers(0, len(OPERATION_WORDS), count), -1)

    # Most groups were already known when the five years began; the rest are found later.
    span = end_day - start_day
    already_known = rng.random(count) < 0.6
    first_mapped = np.where(
        already_known,
        start_day + rng.integers(0, 180, count),
        start_day + rng.integers(0, span - 14, count),
    )
    life_end = first_mapped + 60 + rng.exponential(2.2 * 365, count).astype(np.int64)
    fate = _pick(rng, (1 - sum(ARCHIVE_FATE_SHARE), *ARCHIVE_FATE_SHARE), count) - 1
    # Some groups are disrupted before anyone maps them (no baseline for the marts), and a few
    # are never mapped at all (so never archived either).
    early = rng.random(count) < 0.12
    window_start = first_mapped - np.where(early, rng.integers(30, 365, count), 0)
    mapped = rng.random(count) >= 0.02
    window_start = np.where(mapped, window_start, start_day + rng.integers(0, span - 30, count))
    window_start = np.maximum(window_start, start_day)
    archived = mapped & (fate >= 0) & (life_end < end_day)
    archive_reason = np.where(archived, fate, -1)
    window_end = np.where(archived, life_end, end_day)
    # A few mapped groups stop being re-scored (an analyst moves on): their effect is unknown.
    stale = mapped & ~archived & (rng.random(count) < 0.08)
    last_scored = np.where(
        stale, first_mapped + ((end_day - first_mapped) * rng.uniform(0.3, 0.9, count)), end_day
    ).astype(np.int64)

    dismantled = archive_reason == ARCHIVE_REASONS.index("dismantled")
    # Units spend effort on the bigger threats, and most on the groups they go on to dismantle.
    active_years = (window_end - window_start + 30) / 365
    claim_weight = (
        rng.gamma(0.9, 1.0, count)
        * (base_threat / 50) ** 1.5
        * active_years
        * np.where(dismantled, 1.8, 1.0)
    )
    days = _assessment_schedule(
        seed, first_mapped, mapped, archived, window_end, last_scored, end_day, start_day
    )
    return Ocgs(
        lead_force=lead_force,
        activity=activity,
        base_threat=base_threat,
        base_members=base_members,
        operation=operation,
        archive_reason=archive_reason,
        window_start=window_start,
        window_end=window_end,
        claim_share=claim_weight / claim_weight.sum(),
        assessment_days=days,
        assessment_count=(days != NO_ASSESSMENT).sum(axis=1),
    )


def _assessment_schedule(
    seed, first_mapped, mapped, archived, life_end, last_scored, end_day, start_day
) -> np.ndarray:
    """Irregular re-scoring every 3-6 months, with the odd missed review of 8-18 months.

    An archived group gets one last assessment, on its archive day, after which nothing.
    Built in blocks of OCGs as int32, because at benchmark scale the (OCG, slot) grid is the
    biggest thing in memory.
    """
    rng = _rng(seed, STREAM_SCHEDULE)
    slots = (end_day - start_day) // 85 + 2
    blocks = []
    for start in range(0, len(first_mapped), ASSESSMENT_BLOCK_OCGS):
        block = slice(start, start + ASSESSMENT_BLOCK_OCGS)
        count = len(first_mapped[block])
        missed_review = rng.random((count, slots)) < 0.08
        gaps = np.where(
            missed_review,
            rng.integers(240, 540, (count, slots), dtype=np.int32),
            rng.integers(85, 185, (count, slots), dtype=np.int32),
        )
        gaps[:, 0] = 0
        days = first_mapped[block, None].astype(np.int32) + np.cumsum(gaps, axis=1, dtype=np.int32)
        in_life = (days < life_end[block, None]) & (days <= last_scored[block, None])
        days[~(in_life & mapped[block, None])] = NO_ASSESSMENT
        archive_day = np.where(archived[block] & mapped[block], life_end[block], NO_ASSESSMENT)
        blocks.append(np.sort(np.column_stack([days, archive_day.astype(np.int32)]), axis=1))
    return np.concatenate(blocks) if blocks else np.empty((0, slots + 1), dtype=np.int32)
