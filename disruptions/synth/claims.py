"""Disruption claims: made in chunks, each claim expanded into its versions, as Arrow rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from disruptions.synth.columns import (
    DISRUPTION_SCHEMA,
    _iso_dates,
    _iso_timestamps,
    _ocg_ids,
    _prefixed_numbers,
    _take,
)
from disruptions.synth.country import (
    ARCHIVE_REASONS,
    CLAIM_FATES,
    DEFLATED_IMPACT,
    IMPACT_SHARE_BY_TACTIC,
    IMPACTS,
    INFLATED_IMPACT,
    MAJOR,
    MAX_VERSIONS,
    MODERATE,
    OFFICERS,
    OPERATION_WORDS,
    PARTNER_SHARE,
    RATIONALE_FINDINGS,
    SOURCE_HANDLES,
    STATUSES,
    STRAND_SHARE,
    STRANDS,
    STREETS,
    TACTIC_SHARE_BY_STRAND,
    TOWNS,
    Reference,
)
from disruptions.synth.ocgs import Ocgs, _build_ocgs
from disruptions.synth.streams import STREAM_CLAIMS, _day_number, _pick, _pick_per_row, _rng

YEARS_OF_HISTORY = 5
# Claims per chunk: about 210,000 rows, under 200 MiB while being formatted.
CLAIMS_PER_CHUNK = 100_000


@dataclass
class Context:
    """Everything fixed by the arguments, shared by every chunk."""

    ref: Reference
    seed: int
    end_day: int
    start_day: int
    ocgs: Ocgs
    # Per (strand, tactic) and (tactic, impact) share matrices, in seeds order.
    tactic_share: np.ndarray
    impact_share: np.ndarray
    # Scale effects down when groups are disrupted far more often than in the demo, so
    # scores stay within 0-100 at benchmark densities.
    effect_scale: float


def _context(ref: Reference, ocgs: int, rows: int, seed: int, end_date: date) -> Context:
    end_day = _day_number(end_date)
    start_day = end_day - round(YEARS_OF_HISTORY * 365.25) + 1
    ocg_table = _build_ocgs(ref, max(ocgs, 1), seed, end_day, start_day)
    tactic_share = np.array(
        [[TACTIC_SHARE_BY_STRAND[s].get(t, 0.0) for t in ref.tactics] for s in STRANDS]
    )
    impact_share = np.array([IMPACT_SHARE_BY_TACTIC.get(t, (0, 0, 1, 0, 0)) for t in ref.tactics])
    claims_per_ocg_year = rows / 2.1 / max(ocgs, 1) / YEARS_OF_HISTORY
    return Context(
        ref=ref,
        seed=seed,
        end_day=end_day,
        start_day=start_day,
        ocgs=ocg_table,
        tactic_share=tactic_share,
        impact_share=impact_share,
        effect_scale=min(1.0, 3.0 / max(claims_per_ocg_year, 1e-9)),
    )


@dataclass
class Claims:
    """One element per claim (the facts), plus one element per row (its versions)."""

    ordinal: np.ndarray  # claim number, 1-based, for its id
    ocg: np.ndarray
    day: np.ndarray
    strand: np.ndarray
    tactic: np.ndarray
    true_impact: np.ndarray
    fate: np.ndarray
    force_area: np.ndarray
    lead_agency: np.ndarray  # index into Reference.lead_agencies
    operation: np.ndarray  # index into OPERATION_WORDS or -1
    rationale_parts: np.ndarray  # (claim, 6): vocabulary indices and a house number
    row_claim: np.ndarray  # for each row: index of its claim in this chunk
    row_status: np.ndarray
    row_impact: np.ndarray
    row_seconds: np.ndarray  # recorded_at, seconds since 1970

    def head_rows(self, rows: int) -> Claims:
        """The first `rows` rows, and only the claims they belong to.

        Cutting inside a claim keeps its earliest versions: still a valid history.
        """
        claims = int(self.row_claim[rows - 1]) + 1 if rows else 0
        per_claim = {
            name: getattr(self, name)[:claims]
            for name in self.__dataclass_fields__
            if not name.startswith("row_")
        }
        per_row = {
            name: getattr(self, name)[:rows]
            for name in self.__dataclass_fields__
            if name.startswith("row_")
        }
        return Claims(**per_claim, **per_row)

    @property
    def row_count(self) -> int:
        return len(self.row_claim)


def _make_claims(
    ctx: Context,
    rng: np.random.Generator,
    count: int,
    first_ordinal: int,
    last_day: int,
    fixed_day: int | None = None,
) -> Claims:
    """`count` claims up to `last_day`; with `fixed_day`, all on that day and only against
    groups still active at the end date (the increment's new claims)."""
    ocgs = ctx.ocgs
    share = ocgs.claim_share
    if fixed_day is not None and (ocgs.archive_reason < 0).any():
        share = np.where(ocgs.archive_reason < 0, share, 0.0)
        share = share / share.sum()
    ocg = rng.choice(ocgs.count, size=count, p=share)
    start, end = ocgs.window_start[ocg], np.minimum(ocgs.window_end[ocg], last_day)
    day = start + (rng.random(count) * (end - start + 1)).astype(np.int64)
    strand = _pick(rng, STRAND_SHARE, count)
    tactic = _pick_per_row(rng, ctx.tactic_share, strand)
    true_impact = _pick_per_row(rng, ctx.impact_share, tactic)
    _add_takedowns(ctx, rng, ocg, day, strand, tactic, true_impact)
    if fixed_day is not None:
        day = np.full(count, fixed_day, dtype=np.int64)
    fate = _pick(rng, [fate_share for _, fate_share in CLAIM_FATES.values()], count)
    force_area = _force_area(ctx, rng, ocgs.lead_force[ocg])
    claims = Claims(
        ordinal=np.arange(first_ordinal, first_ordinal + count),
        ocg=ocg,
        day=day,
        strand=strand,
        tactic=tactic,
        true_impact=true_impact,
        fate=fate,
        force_area=force_area,
        lead_agency=_lead_agency(ctx, rng, force_area, tactic),
        operation=np.where(rng.random(count) < 0.85, ocgs.operation[ocg], -1),
        rationale_parts=np.column_stack(
            [
                rng.integers(0, len(vocabulary), count)
                for vocabulary in (
                    SOURCE_HANDLES,
                    RATIONALE_FINDINGS,
                    STREETS,
                    TOWNS,
                    OFFICERS,
                )
            ]
            + [rng.integers(1, 240, count)]
        ),
        row_claim=np.empty(0, dtype=np.int64),
        row_status=np.empty(0, dtype=np.int64),
        row_impact=np.empty(0, dtype=np.int64),
        row_seconds=np.empty(0, dtype=np.int64),
    )
    _add_versions(claims, rng, last_day)
    return claims


def _add_takedowns(ctx, rng, ocg, day, strand, tactic, true_impact) -> None:
    """Groups that end dismantled get a burst of charges and prison terms before the end.

    This is what makes major disruptions raise the chance of dismantling in the data.
    """
    ocgs = ctx.ocgs
    dismantled = ocgs.archive_reason[ocg] == ARCHIVE_REASONS.index("dismantled")
    takedown = dismantled & (rng.random(len(ocg)) < 0.35)
    burst_start = np.maximum(ocgs.window_start[ocg], ocgs.window_end[ocg] - 150)
    burst_day = burst_start + (rng.random(len(ocg)) * (ocgs.window_end[ocg] - burst_start))
    day[takedown] = burst_day[takedown].astype(np.int64)
    strand[takedown] = STRANDS.index("pursue")
    takedown_tactics = np.array(
        [ctx.ref.tactics.index(t) for t in ("imprisonment", "conviction", "charge", "arrest")]
    )
    tactic[takedown] = takedown_tactics[_pick(rng, (0.35, 0.3, 0.2, 0.15), len(ocg))][takedown]
    true_impact[takedown] = np.where(rng.random(len(ocg)) < 0.7, MAJOR, MODERATE)[takedown]


def _force_area(ctx: Context, rng: np.random.Generator, lead_force: np.ndarray) -> np.ndarray:
    """Usually the group's lead force; otherwise another force in the same region."""
    ref = ctx.ref
    force_rocu = ref.force_rocu_index
    by_region = np.argsort(force_rocu, kind="stable")
    region_start = np.searchsorted(force_rocu[by_region], np.arange(len(ref.rocus)))
    region_size = np.bincount(force_rocu, minlength=len(ref.rocus))
    region = force_rocu[lead_force]
    neighbour = by_region[
        region_start[region] + (rng.random(len(lead_force)) * region_size[region]).astype(int)
    ]
    return np.where(rng.random(len(lead_force)) < 0.85, lead_force, neighbour)


def _lead_agency(ctx, rng, force_area, tactic) -> np.ndarray:
    """Mostly the force or its ROCU; partners lead partner enforcement and some others."""
    ref = ctx.ref
    count = len(force_area)
    force_rocu = ref.force_rocu_index
    partner = _pick(rng, [PARTNER_SHARE.get(code, 0.02) for code in ref.partners], count)
    choice = rng.random(count)
    by_partner = (choice < 0.12) | (tactic == ref.tactics.index("partner_enforcement"))
    by_rocu = ~by_partner & (choice < 0.45)
    agency = np.where(by_rocu, len(ref.forces) + force_rocu[force_area], force_area)
    return np.where(by_partner, len(ref.forces) + len(ref.rocus) + partner, agency)


def _fate_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fate, version) -> number of versions, status index, which-impact code."""
    versions = np.array([len(steps) for steps, _ in CLAIM_FATES.values()])
    status = np.zeros((len(CLAIM_FATES), MAX_VERSIONS), dtype=np.int64)
    which = np.zeros((len(CLAIM_FATES), MAX_VERSIONS), dtype=np.int64)
    for fate, (steps, _) in enumerate(CLAIM_FATES.values()):
        for version, (status_name, impact_code) in enumerate(steps):
            status[fate, version] = STATUSES.index(status_name)
            which[fate, version] = impact_code
    return versions, status, which


FATE_VERSIONS, FATE_STATUS, FATE_WHICH_IMPACT = _fate_tables()


def _add_versions(claims: Claims, rng: np.random.Generator, last_day: int) -> None:
    """Expand claims into their versions; versions after `last_day` have not happened yet.

    Each version is recorded at least a day after the one it amends, so amendments are
    strictly later; the first is recorded on or after the disruption date.
    """
    count = len(claims.day)
    recorded_day = np.empty((count, MAX_VERSIONS), dtype=np.int64)
    recorded_day[:, 0] = np.minimum(claims.day + rng.integers(0, 21, count), last_day)
    recorded_day[:, 1] = recorded_day[:, 0] + rng.integers(3, 75, count)
    recorded_day[:, 2] = recorded_day[:, 1] + rng.integers(14, 200, count)
    time_of_day = rng.integers(7 * 3600, 22 * 3600, (count, MAX_VERSIONS))
    version = np.arange(MAX_VERSIONS)
    happened = (version < FATE_VERSIONS[claims.fate][:, None]) & (recorded_day <= last_day)
    claim_index, version_index = np.nonzero(happened)
    fate = claims.fate[claim_index]
    true_impact = claims.true_impact[claim_index]
    which = FATE_WHICH_IMPACT[fate, version_index]
    impact = np.select(
        [which == 1, which == 2],
        [INFLATED_IMPACT[true_impact], DEFLATED_IMPACT[true_impact]],
        true_impact,
    )
    claims.row_claim = claim_index
    claims.row_status = FATE_STATUS[fate, version_index]
    claims.row_impact = impact
    claims.row_seconds = (
        recorded_day[claim_index, version_index] * 86400 + time_of_day[claim_index, version_index]
    )


def _claim_chunks(ctx: Context, target_rows: int) -> Iterator[Claims]:
    """Chunks of claims until exactly `target_rows` rows (all versions) have been made."""
    made = 0
    chunk = 0
    next_ordinal = 1
    while made < target_rows:
        claims = _make_claims(
            ctx, _rng(ctx.seed, STREAM_CLAIMS, chunk), CLAIMS_PER_CHUNK, next_ordinal, ctx.end_day
        )
        if made + claims.row_count > target_rows:
            claims = claims.head_rows(target_rows - made)
        made += claims.row_count
        next_ordinal += len(claims.ordinal)
        chunk += 1
        yield claims


# --- claims as Arrow tables ------------------------------------------------------------------
def _operation_names(operation: np.ndarray) -> pa.Array:
    names = pc.binary_join_element_wise("Op ", _take(OPERATION_WORDS, np.maximum(operation, 0)), "")
    return pc.if_else(pa.array(operation < 0), pa.scalar(None, pa.string()), names)


def _rationales(parts: np.ndarray) -> pa.Array:
    source, finding, street, town, officer, house = (parts[:, i] for i in range(6))
    return pc.binary_join_element_wise(
        "SENSITIVE: ",
        _take(SOURCE_HANDLES, source),
        " ",
        _take(RATIONALE_FINDINGS, finding),
        " ",
        pa.array(house).cast(pa.string()),
        " ",
        _take(STREETS, street),
        ", ",
        _take(TOWNS, town),
        ". Handler: ",
        _take(OFFICERS, officer),
        ". Do not disclose.",
        "",
    )


def _claim_table(ctx: Context, claims: Claims, id_prefix: str = "DIS-") -> pa.Table:
    ref = ctx.ref
    row = claims.row_claim
    return pa.table(
        [
            _prefixed_numbers(id_prefix, claims.ordinal[row], 8),
            _ocg_ids(claims.ocg[row]),
            _iso_dates(claims.day[row]),
            _iso_timestamps(claims.row_seconds),
            _take(IMPACTS, claims.row_impact),
            _take(STRANDS, claims.strand[row]),
            _take(ref.tactics, claims.tactic[row]),
            _take(ref.lead_agencies, claims.lead_agency[row]),
            _take(ref.forces, claims.force_area[row]),
            _take(STATUSES, claims.row_status),
            _operation_names(claims.operation[row]),
            _rationales(claims.rationale_parts[row]),
        ],
        schema=DISRUPTION_SCHEMA,
    )
