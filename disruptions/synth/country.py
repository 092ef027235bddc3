"""How the country looks: forces, activities, tactics, impacts, fates and invented names.

The shares and weights that shape the sample, and the reference codes read from seeds/.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from disruptions.reference import read_reference, seed_connection

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
        """The seeds as the pipeline reads them (disruptions.reference), checked against
        what this generator can model: it draws impacts and strands from shares of its own."""
        with seed_connection() as con:
            seeds = read_reference(con)
        if seeds.impacts != IMPACTS or seeds.strands != STRANDS:
            raise ValueError(
                "the synthetic generator models impacts "
                f"{', '.join(IMPACTS)} and strands {', '.join(STRANDS)}; seeds/ now has "
                f"{', '.join(seeds.impacts)} and {', '.join(seeds.strands)}"
            )
        return cls(
            forces=tuple(seeds.forces),
            force_rocu=tuple(seeds.forces.values()),
            rocus=tuple(seeds.rocus),
            partners=seeds.partners,
            tactics=seeds.tactics,
            bands=tuple(band.band for band in seeds.bands),
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
