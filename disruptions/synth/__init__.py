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
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from disruptions.config import SEEDS_DIR

DEFAULT_END_DATE = date(2026, 10, 31)
LAYOUTS = ("by_sender_year", "single")
FILE_FORMATS = ("csv", "parquet", "jsonl")
YEARS_OF_HISTORY = 5
# Claims per chunk: about 210,000 rows, under 200 MiB while being formatted.
CLAIMS_PER_CHUNK = 100_000
# OCGs per block when building and writing assessments.
ASSESSMENT_BLOCK_OCGS = 50_000
BAD_FEEDS_FOLDER = "BADFEEDS"
EPOCH = date(1970, 1, 1)

DISRUPTION_COLUMNS = (
    "disruption_id",
    "ocg_id",
    "disruption_date",
    "recorded_at",
    "impact",
    "strand",
    "tactic",
    "lead_agency",
    "force_area",
    "status",
    "operation",
    "rationale",
)
DISRUPTION_SCHEMA = pa.schema([(name, pa.string()) for name in DISRUPTION_COLUMNS])
ASSESSMENT_SCHEMA = pa.schema(
    [
        ("ocg_id", pa.string()),
        ("assessed_on", pa.string()),
        ("threat_score", pa.int64()),
        ("band", pa.string()),
        ("status", pa.string()),
        ("archive_reason", pa.string()),
        ("lead_force", pa.string()),
        ("principal_activity", pa.string()),
        ("member_count", pa.int64()),
    ]
)

# --- how the country looks -------------------------------------------------------------------
# Relative share of mapped OCGs by lead force: roughly each force's officer headcount, so the
# big metropolitan forces hold most groups. City of London and BTP lead very few OCGs.
FORCE_OCG_WEIGHT = {
    "MPS": 25.0, "GMP": 8.0, "WMIDS": 7.5, "WYORKS": 6.0, "THAMESV": 5.0, "MERSEY": 4.0,
    "KENT": 4.0, "NORTHUMB": 3.6, "ESSEX": 3.6, "HANTS": 3.5, "DEVCORN": 3.5, "SWALES": 3.3,
    "AVONSOM": 3.2, "LANCS": 3.2, "SYORKS": 3.0, "SUSSEX": 3.0, "WMERCIA": 2.4, "NOTTS": 2.3,
    "CHESHIRE": 2.3, "HERTS": 2.2, "LEICS": 2.2, "HUMBER": 2.1, "SURREY": 2.1, "DERBYS": 2.0,
    "STAFFS": 1.8, "NORFOLK": 1.8, "CAMBS": 1.6, "NYORKS": 1.6, "NWALES": 1.6, "BEDS": 1.4,
    "NORTHANTS": 1.4, "CLEVELAND": 1.4, "GWENT": 1.4, "SUFFOLK": 1.3, "DURHAM": 1.3,
    "DORSET": 1.3, "LINCS": 1.2, "CUMBRIA": 1.2, "GLOS": 1.2, "DYFEDP": 1.2, "WILTS": 1.1,
    "WARKS": 1.0, "BTP": 0.5, "CITYLDN": 0.4,
}  # fmt: skip

PRINCIPAL_ACTIVITIES = {
    "drugs supply": 0.45,
    "organised acquisitive crime": 0.12,
    "fraud": 0.10,
    "money laundering": 0.07,
    "modern slavery and human trafficking": 0.06,
    "firearms supply": 0.05,
    "organised immigration crime": 0.05,
    "child sexual exploitation": 0.03,
    "cyber crime": 0.03,
    "other": 0.04,
}

STRANDS = ("pursue", "prevent", "protect", "prepare")
STRAND_SHARE = (0.76, 0.10, 0.09, 0.05)

IMPACTS = ("major", "moderate", "minor", "none", "negative")
MAJOR, MODERATE, MINOR, NONE, NEGATIVE = range(5)
# A claimant's first grading can be one level too generous (or, for a revised claim, too
# modest): index = true impact, value = the grading on the earlier version.
INFLATED_IMPACT = np.array([MAJOR, MAJOR, MODERATE, MINOR, NONE])
DEFLATED_IMPACT = np.array([MODERATE, MINOR, NONE, NONE, NEGATIVE])

# Share of each tactic within a strand (rows need not sum to 1; they are normalised).
TACTIC_SHARE_BY_STRAND = {
    "pursue": {
        "arrest": 20, "charge": 10, "conviction": 7, "imprisonment": 6, "drugs_seizure": 18,
        "firearms_seizure": 4, "cash_seizure": 9, "asset_restraint": 4, "confiscation_order": 3,
        "partner_enforcement": 5, "source_compromise": 1.5, "other": 3,
    },
    "prevent": {"ancillary_order": 30, "deterrence": 45, "safeguarding": 15, "other": 10},
    "protect": {
        "safeguarding": 45, "ancillary_order": 15, "partner_enforcement": 20, "deterrence": 10,
        "other": 10,
    },
    "prepare": {"other": 50, "safeguarding": 25, "deterrence": 25},
}  # fmt: skip

# How hard each tactic tends to hit: shares of (major, moderate, minor, none, negative).
IMPACT_SHARE_BY_TACTIC = {
    "arrest": (0.15, 0.40, 0.35, 0.08, 0.02),
    "charge": (0.30, 0.40, 0.22, 0.06, 0.02),
    "conviction": (0.60, 0.30, 0.08, 0.02, 0.00),
    "imprisonment": (0.75, 0.20, 0.04, 0.01, 0.00),
    "drugs_seizure": (0.04, 0.36, 0.52, 0.07, 0.01),
    "firearms_seizure": (0.20, 0.45, 0.30, 0.05, 0.00),
    "cash_seizure": (0.06, 0.34, 0.50, 0.09, 0.01),
    "asset_restraint": (0.15, 0.45, 0.32, 0.08, 0.00),
    "confiscation_order": (0.25, 0.45, 0.25, 0.05, 0.00),
    "ancillary_order": (0.05, 0.30, 0.50, 0.14, 0.01),
    "safeguarding": (0.03, 0.20, 0.52, 0.24, 0.01),
    "deterrence": (0.00, 0.05, 0.55, 0.38, 0.02),
    "partner_enforcement": (0.08, 0.32, 0.45, 0.14, 0.01),
    "source_compromise": (0.00, 0.00, 0.05, 0.15, 0.80),
    "other": (0.03, 0.17, 0.45, 0.30, 0.05),
}

# Threat-score points a disruption of each true impact moves its OCG by (before noise).
# `none` has no effect by definition; `negative` leaves the group stronger.
SCORE_EFFECT_BY_IMPACT = np.array([-11.0, -5.0, -1.5, 0.0, 9.0])
# Without disruption a group slowly grows, and is pulled back towards its own level.
SCORE_DRIFT_PER_ASSESSMENT = 1.5
SCORE_PULL_TO_BASE = 0.12
SCORE_NOISE_SD = 3.0

# The paper trail of a claim. Each fate is a list of (status, which impact) per version;
# "which impact" is 0 = the true one, 1 = inflated, 2 = deflated.
CLAIM_FATES = {
    "pending": ((("claimed", 0),), 0.015),
    "approved": ((("claimed", 0), ("approved", 0)), 0.635),
    "downgraded": ((("claimed", 1), ("approved", 0)), 0.09),
    "rejected": ((("claimed", 0), ("rejected", 0)), 0.10),
    "withdrawn": ((("claimed", 0), ("approved", 0), ("withdrawn", 0)), 0.05),
    "regraded": ((("claimed", 2), ("approved", 2), ("approved", 0)), 0.11),
}
FATE_NAMES = tuple(CLAIM_FATES)
# Rejected and withdrawn claims did not happen as claimed, so they move nothing.
FATE_HAS_EFFECT = np.array([name not in ("rejected", "withdrawn") for name in FATE_NAMES])
STATUSES = ("claimed", "approved", "rejected", "withdrawn")
MAX_VERSIONS = 3

ARCHIVE_REASONS = ("dismantled", "merged", "no_longer_meets_definition", "transferred", "other")
# Share of OCGs whose life ends in each way (if the end falls before the end date).
ARCHIVE_FATE_SHARE = (0.30, 0.04, 0.04, 0.02, 0.015)

PARTNER_SHARE = {
    "NCA": 0.40, "HMRC": 0.18, "BORDERFORCE": 0.12, "IMMIGRATION": 0.10, "DWP": 0.05,
    "HMPPS": 0.07, "TRADINGSTD": 0.05, "ENVAGENCY": 0.03,
}  # fmt: skip

# Invented operation names, source handles, streets, towns and officers.
OPERATION_WORDS_TEXT = (
    "NIGHTJAR KESTREL MERLIN HARRIER OSPREY BITTERN CURLEW DUNLIN GANNET GOSHAWK LAPWING "
    "PLOVER REDSHANK SANDERLING SKUA TERN WHIMBREL WRYNECK AVOCET BRAMBLING CHOUGH CORNCRAKE "
    "DOTTEREL FIELDFARE GARGANEY HOBBY LINNET MARTIN NUTHATCH ORTOLAN PIPIT QUAIL REDWING "
    "SISKIN TWITE WAXWING YELLOWHAMMER ALDER BIRCH CEDAR DAMSON ELDER FIR GORSE HAZEL IVY "
    "JUNIPER LARCH MEDLAR NETTLE OAK PRIVET QUINCE ROWAN SORREL TANSY VERVAIN WILLOW YEW "
    "AMBER BASALT COBALT DOLERITE FLINT GRANITE HALITE JASPER MARBLE ONYX PUMICE QUARTZ "
    "SHALE TOPAZ SLATE CINDER EMBER FATHOM HARBOUR LANTERN MERIDIAN PARAPET RAMPART SEXTANT"
)
OPERATION_WORDS = tuple(OPERATION_WORDS_TEXT.split())
SOURCE_HANDLES = (
    "CHIS BLUEBELL-07", "CHIS FOXGLOVE-12", "CHIS HEATHER-03", "CHIS SNOWDROP-21",
    "CHIS THISTLE-09", "CHIS PRIMROSE-15", "a covert source (URN 4471)",
    "a covert source (URN 5802)", "an undercover officer (UCO 118)", "CHIS MISTLETOE-30",
)  # fmt: skip
STREETS = (
    "Larkspur Close", "Quarry Lane", "Tannery Row", "Foundry Street", "Mill Walk",
    "Chapel Yard", "Wharf Road", "Orchard Mews", "Brewery Court", "Signal Terrace",
    "Canal Side", "Ropewalk", "Dyers Lane", "Kiln Street", "Gasworks Road", "Station Approach",
)  # fmt: skip
TOWNS = (
    "Ashby Fold", "Brackenmoor", "Cobbleton", "Dunhallow", "Eastwick Marsh", "Fenbury",
    "Greyhaven", "Hollinsworth", "Ironbridge Vale", "Kestwick", "Lowmere", "Millbeck",
    "Northfleet Cross", "Oakhollow", "Pendlestow", "Ravensmoor",
)  # fmt: skip
OFFICERS = (
    "DC Hale", "DS Okafor", "DI Pritchard", "DC Lindqvist", "DS Marsh", "DI Achterberg",
    "DC Bellweather", "DS Quill", "DI Farrant", "DC Nkemelu", "DS Thorne", "DI Vasquez",
)  # fmt: skip
RATIONALE_FINDINGS = (
    "reports the group stores product at",
    "identified a stash house at",
    "places the principal nominal at",
    "links cash collections to",
    "saw firearms handed over at",
    "reports victims housed at",
    "names a money mule living at",
    "reports the group regrouping at",
)


# --- reference data from the seeds ----------------------------------------------------------
def _read_seed_column(name: str, column: str) -> list[str]:
    with (SEEDS_DIR / name).open(newline="", encoding="utf-8") as handle:
        return [row[column] for row in csv.DictReader(handle)]


@dataclass(frozen=True)
class Reference:
    """The codes a clean sample may use, read from seeds/ so they never drift from it."""

    forces: tuple[str, ...]
    force_rocu: tuple[str, ...]  # the ROCU of each force, same order
    rocus: tuple[str, ...]
    partners: tuple[str, ...]
    tactics: tuple[str, ...]
    bands: tuple[str, ...]  # most severe first

    @classmethod
    def from_seeds(cls) -> Reference:
        with (SEEDS_DIR / "ocg_bands.csv").open(newline="", encoding="utf-8") as handle:
            bands = sorted(csv.DictReader(handle), key=lambda row: int(row["rank"]))
        return cls(
            forces=tuple(_read_seed_column("forces.csv", "force_code")),
            force_rocu=tuple(_read_seed_column("forces.csv", "rocu_code")),
            rocus=tuple(_read_seed_column("rocus.csv", "rocu_code")),
            partners=tuple(_read_seed_column("partner_agencies.csv", "agency_code")),
            tactics=tuple(_read_seed_column("tactics.csv", "tactic")),
            bands=tuple(row["band"] for row in bands),
        )

    @property
    def force_rocu_index(self) -> np.ndarray:
        """For each force, the index of its ROCU in `rocus`."""
        return np.array([self.rocus.index(rocu) for rocu in self.force_rocu])

    @property
    def lead_agencies(self) -> tuple[str, ...]:
        """Forces, then ROCUs, then partners: the index arithmetic below relies on it."""
        return self.forces + self.rocus + self.partners


def band_for_score(scores: np.ndarray, bands: tuple[str, ...]) -> np.ndarray:
    """Index into `bands` (most severe first) for each score: equal slices of 0-100.

    A score of 100 or more gets the most severe band and 0 the least, whatever the number of
    bands an operator configures.
    """
    clipped = np.clip(scores, 0, 100)
    return np.minimum(len(bands) - 1, (100 - clipped) * len(bands) // 101).astype(np.int64)


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


# --- random streams ---------------------------------------------------------------------------
STREAM_OCGS = 0
STREAM_SCHEDULE = 1
STREAM_CLAIMS = 2  # one per chunk
STREAM_EFFECTS = 3  # one per chunk
STREAM_SCORES = 4
STREAM_RESENDS = 5  # one per block of OCGs
STREAM_BAD_CLAIMS = 6  # one per chunk
STREAM_BAD_ASSESSMENTS = 7  # one per block of OCGs
STREAM_INCREMENT = 8


def _rng(seed: int, stream: int, index: int = 0) -> np.random.Generator:
    # Separate streams per purpose and chunk: adding bad input, or another chunk, never shifts
    # the random numbers behind the clean rows.
    return np.random.default_rng([seed % 2**63, stream, index])


def _day_number(day: date) -> int:
    return (day - EPOCH).days


def _pick(rng: np.random.Generator, shares, size: int) -> np.ndarray:
    shares = np.asarray(shares, dtype=float)
    return rng.choice(len(shares), size=size, p=shares / shares.sum())


def _pick_per_row(rng: np.random.Generator, share_rows: np.ndarray, row_of: np.ndarray):
    """Draw one column index per element, from the share row `row_of` points at."""
    cumulative = np.cumsum(share_rows / share_rows.sum(axis=1, keepdims=True), axis=1)
    draws = rng.random(len(row_of))
    picked = (cumulative[row_of] < draws[:, None]).sum(axis=1)
    return np.minimum(picked, share_rows.shape[1] - 1)


# --- OCGs and their assessment schedule -------------------------------------------------------
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


# --- claims -----------------------------------------------------------------------------------
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


# --- rows as Arrow tables ---------------------------------------------------------------------
def _take(vocabulary, indices: np.ndarray) -> pa.Array:
    return pa.array(vocabulary, pa.string()).take(pa.array(indices))


def _iso_dates(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype(np.int32), pa.date32()).cast(pa.string())


def _iso_timestamps(seconds: np.ndarray) -> pa.Array:
    """UTC timestamps as 2026-10-31T21:57:43Z.

    Built from date and time-of-day casts: pyarrow's strftime is twenty times slower.
    """
    day = _iso_dates(seconds // 86400)
    time_of_day = pa.array((seconds % 86400).astype(np.int32), pa.time32("s")).cast(pa.string())
    return pc.binary_join_element_wise(day, "T", time_of_day, "Z", "")


def _prefixed_numbers(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _ocg_ids(indices: np.ndarray) -> pa.Array:
    return _prefixed_numbers("OCG-", indices + 1, 6)


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


# --- threat scores: where the disruptions leave their mark ------------------------------------
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


# --- writing files ----------------------------------------------------------------------------
class FeedFiles:
    """The output files, each opened on first use and appended to chunk by chunk."""

    def __init__(self, out_dir: Path, file_format: str) -> None:
        self.out_dir = out_dir
        self.file_format = file_format
        self.writers: dict[Path, object] = {}
        self.rows: dict[str, int] = {}

    def write(self, relative_path: str, feed: str, table: pa.Table) -> None:
        path = self.out_dir / relative_path
        writer = self.writers.get(path) or self._open(path, table.schema)
        if self.file_format == "jsonl":
            lines = (json.dumps(row, ensure_ascii=False) + "\n" for row in table.to_pylist())
            writer.write("".join(lines))
        else:
            writer.write_table(table)
        self.rows[feed] = self.rows.get(feed, 0) + table.num_rows

    def _open(self, path: Path, schema: pa.Schema):
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.file_format == "csv":
            options = pa_csv.WriteOptions(quoting_style="needed")
            writer = pa_csv.CSVWriter(str(path), schema, write_options=options)
        elif self.file_format == "parquet":
            writer = pq.ParquetWriter(str(path), schema)
        else:
            writer = path.open("w", encoding="utf-8", newline="\n")
        self.writers[path] = writer
        return writer

    def close(self) -> list[Path]:
        for writer in self.writers.values():
            writer.close()
        return sorted(self.writers)


def _years(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _write_by_sender_year(
    files: FeedFiles,
    ctx: Context,
    feed: str,
    table: pa.Table,
    sender_force: np.ndarray,
    sent_day: np.ndarray,
    layout: str,
) -> None:
    """One file per sending ROCU (the ROCU of the row's force) and calendar year sent."""
    if layout == "single":
        files.write(f"{feed}.{files.file_format}", feed, table)
        return
    key = ctx.ref.force_rocu_index[sender_force] * 10_000 + _years(sent_day)

    def path_for(key: int) -> str:
        rocu, year = ctx.ref.rocus[key // 10_000], key % 10_000
        return f"{rocu}/{feed}_{rocu}_{year}.{files.file_format}"

    _write_groups(files, feed, table, key, path_for)


NATIONAL_REVIEW_FILE = "ocg_assessments_national_review"


def _write_resent(files: FeedFiles, rows: AssessmentRows) -> None:
    """Corrected assessments, re-sent by the national mapping review in one file at the top
    of the landing folder.

    Ingest loads files in path order, and this lower-case name sorts after every upper-case
    ROCU folder, so each correction is loaded after the row it replaces, and no file holds the
    same key twice. One small file rather than one per ROCU: a tiny batch from a sender with
    history would also trip the batch-volume warning.
    """
    files.write(f"{NATIONAL_REVIEW_FILE}.{files.file_format}", "ocg_assessments", rows.table)


def _write_groups(files: FeedFiles, feed: str, table: pa.Table, key: np.ndarray, path_for):
    # A stable sort keeps the rows of each file in the order they were made.
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    cuts = np.flatnonzero(np.diff(sorted_key)) + 1
    for start, stop in zip(np.r_[0, cuts], np.r_[cuts, len(key)], strict=True):
        part = table.take(pa.array(order[start:stop]))
        files.write(path_for(int(sorted_key[start])), feed, part)


# --- deliberately bad input -------------------------------------------------------------------
# Share of a file's rows given each kind of bad (or messy) value.
BAD_ROW_FRACTION = 0.0004


class _EditableColumns(dict):
    """A table's columns as editable numpy arrays, converted only when first used."""

    def __init__(self, table: pa.Table) -> None:
        super().__init__()
        self.table = table

    def __missing__(self, name: str) -> np.ndarray:
        self[name] = self.table.column(name).to_numpy(zero_copy_only=False).copy()
        return self[name]


def _spoil_rows(table: pa.Table, rng: np.random.Generator, spoilers: list) -> tuple[pa.Table, int]:
    """Apply each spoiler to its own few rows; return the table and how many rows are bad.

    A spoiler is (column, make_value(columns, row, number), is_bad). Messy-but-valid
    spellings are spoilers too, but they do not count as bad rows.
    """
    per_kind = max(1, round(table.num_rows * BAD_ROW_FRACTION))
    if table.num_rows < per_kind * len(spoilers):
        return table, 0
    chosen = rng.choice(table.num_rows, size=per_kind * len(spoilers), replace=False)
    columns = _EditableColumns(table)
    bad_rows = 0
    for kind, (column, make_value, is_bad) in enumerate(spoilers):
        rows = np.sort(chosen[kind * per_kind : (kind + 1) * per_kind])
        for number, row in enumerate(rows):
            columns[column][row] = make_value(columns, row, number)
        bad_rows += len(rows) if is_bad else 0
    arrays = [
        pa.array(columns[name].tolist(), table.schema.field(name).type)
        if name in columns
        else table.column(name)
        for name in table.column_names
    ]
    return pa.table(arrays, schema=table.schema), bad_rows


def _cycle(*values):
    return lambda columns, row, number: values[number % len(values)]


def _days_after(source_column: str, offset_days: int):
    def make(columns, row, number):
        base = date.fromisoformat(columns[source_column][row][:10])
        return (base + timedelta(days=offset_days + number % 30)).isoformat()

    return make


def _year_1999(column: str):
    return lambda columns, row, number: "1999" + columns[column][row][4:]


def _messy_spelling(column: str, style: str):
    """Valid after trimming and case-folding: what spreadsheets and old systems send."""

    def make(columns, row, number):
        value = columns[column][row]
        spelled = value.upper() if style == "upper" else value.lower()
        if number % 2:
            spelled = spelled.title() if style == "upper" else spelled
        return f"  {spelled} " if number % 3 else spelled

    return make


CLAIM_SPOILERS = [
    ("tactic", _cycle("covert_surveillance", "kneecapping", "TBC"), True),
    ("disruption_date", _cycle("31/02/2024", "2024-13-45", "last tuesday"), True),
    ("disruption_date", _days_after("recorded_at", 5), True),
    ("disruption_date", _year_1999("disruption_date"), True),
    ("impact", _cycle(None), True),
    ("ocg_id", _cycle(None), True),
    ("impact", _messy_spelling("impact", "upper"), False),
    ("strand", _messy_spelling("strand", "upper"), False),
    ("status", _messy_spelling("status", "upper"), False),
    ("force_area", _messy_spelling("force_area", "lower"), False),
]

ASSESSMENT_SPOILERS = [
    ("threat_score", _cycle(-1, -7, -30), True),
    ("assessed_on", _cycle("2023-02-30", "30/06/2024", "Q3 2024"), True),
    ("band", _cycle(None), True),
    ("status", _messy_spelling("status", "upper"), False),
    ("lead_force", _messy_spelling("lead_force", "lower"), False),
]


def _bad_feed_rows(ctx: Context) -> list[dict[str, str]]:
    """A few otherwise valid claims for the bad files, dated a month before the end."""
    day = date.fromordinal(EPOCH.toordinal() + ctx.end_day - 30)
    force = ctx.ref.forces[int(ctx.ocgs.lead_force[0])]
    return [
        {
            "disruption_id": f"DIS-X{number:07d}",
            "ocg_id": "OCG-000001",
            "disruption_date": day.isoformat(),
            "recorded_at": f"{(day + timedelta(days=2)).isoformat()}T10:1{number}:00Z",
            "impact": ("moderate", "minor", "major")[number % 3],
            "strand": "pursue",
            "tactic": ("drugs_seizure", "cash_seizure", "arrest")[number % 3],
            "lead_agency": force,
            "force_area": force,
            "status": "claimed",
            "operation": "Op KESTREL",
            "rationale": (
                'SENSITIVE: CHIS WREN-04 says "the lock-up, behind 12 Dyers Lane, Fenbury",\n'
                "handler DS Quill, keep, off, the, record"
            ),
        }
        for number in range(1, 4)
    ]


def _csv_text(rows: list[dict[str, str]], columns, line_end: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator=line_end)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _write_bad_files(out_dir: Path, ctx: Context) -> list[Path]:
    """Whole files that test file-level handling, always CSV, in their own sender folder."""
    folder = out_dir / BAD_FEEDS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    rows = _bad_feed_rows(ctx)
    without_status = [c for c in DISRUPTION_COLUMNS if c != "status"]
    contents = {
        "disruptions_BADFEEDS_missing_status_column.csv": _csv_text(
            [{c: row[c] for c in without_status} for row in rows], without_status
        ).encode(),
        "disruptions_BADFEEDS_empty.csv": b"",
        "ocg_assessments_BADFEEDS_header_only.csv": (",".join(ASSESSMENT_SCHEMA.names) + "\n")
        .encode(),
        "disruptions_BADFEEDS_latin1.csv": _csv_text(
            [{**row, "operation": "Op CAFÉ", "rationale": "SENSITIVE: handler DS Müller"}
             for row in rows],
            DISRUPTION_COLUMNS,
        ).encode("latin-1"),
        "disruptions_BADFEEDS_excel_export.csv": "\ufeff".encode()
        + _csv_text(rows, DISRUPTION_COLUMNS, line_end="\r\n").encode(),
    }  # fmt: skip
    # The same bytes again under another name: a duplicate file, loaded once.
    contents["disruptions_BADFEEDS_excel_export_resent.csv"] = contents[
        "disruptions_BADFEEDS_excel_export.csv"
    ]
    written = []
    for name, data in contents.items():
        (folder / name).write_bytes(data)
        written.append(folder / name)
    return written


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
