"""The two input feeds: their columns, and the one way a column name is recognised.

Every place that matches a column name by its meaning (ingest reading a header or a JSON
key, publication scrubbing a quarantined record, alerts and validation samples dropping
sensitive values) calls `normalise_column_name`, so a name that ingest accepts as
`rationale` is the same name every scrub removes.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

FEEDS = ("disruptions", "ocg_assessments")

# No disruption_date may be earlier (SPEC section 1), so no as_of can be either.
EARLIEST_DISRUPTION_DATE = date(2000, 1, 1)

# Free text that may be sensitive: it never leaves the raw layer.
SENSITIVE_COLUMNS = frozenset({"rationale"})


@dataclass(frozen=True)
class Column:
    name: str
    # id: trimmed, case kept | enum: trimmed, lower case | code: trimmed, upper case
    # date | timestamp | count (integer >= 0) | text: stored as read
    kind: str
    required: bool
    allowed: str | None = None  # name of a reference list (see ingest/rules.py)


FEED_COLUMNS: dict[str, tuple[Column, ...]] = {
    "disruptions": (
        Column("disruption_id", "id", True),
        Column("ocg_id", "id", True),
        Column("disruption_date", "date", True),
        Column("recorded_at", "timestamp", True),
        Column("impact", "enum", True, "impact"),
        Column("strand", "enum", True, "strand"),
        Column("tactic", "enum", True, "tactic"),
        Column("lead_agency", "code", True, "lead_agency"),
        Column("force_area", "code", True, "force"),
        Column("status", "enum", True, "disruption_status"),
        Column("operation", "text", False),
        Column("rationale", "text", False),
    ),
    "ocg_assessments": (
        Column("ocg_id", "id", True),
        Column("assessed_on", "date", True),
        Column("threat_score", "count", True),
        Column("band", "code", True, "band"),
        Column("status", "enum", True, "ocg_status"),
        # Required only when status is archived: see ingest/rules.py' cross-column rules.
        Column("archive_reason", "enum", False, "archive_reason"),
        Column("lead_force", "code", True, "force"),
        Column("principal_activity", "text", False),
        Column("member_count", "count", False),
    ),
}
# Each feed's column names in the order a sender writes them.
FEED_COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    feed: tuple(column.name for column in columns) for feed, columns in FEED_COLUMNS.items()
}

# What a quarantined record may carry beyond the working warehouse (the published audit
# copy, alerts): the feeds' own columns, except the sensitive ones. A sender's extra
# columns ("notes", "comments") are free text nobody has vetted, so they stay behind too.
PUBLIC_RECORD_COLUMNS = frozenset(
    column.name
    for columns in FEED_COLUMNS.values()
    for column in columns
    if column.name not in SENSITIVE_COLUMNS
)


def normalise_column_name(name: object) -> str:
    """The column a header, JSON key or record key stands for.

    Compatibility forms are folded (a full-width letter is the letter), every control,
    format (zero-width) and space character is dropped wherever it sits, and case is
    folded. So "Rationale", " rationale\\t", "ra\\u200btionale" and "RATIONALE\\x00" are all
    `rationale`.
    """
    text = unicodedata.normalize("NFKC", str(name))
    kept = "".join(char for char in text if not unicodedata.category(char).startswith(("C", "Z")))
    return kept.casefold()


def is_sensitive_column(name: object) -> bool:
    return normalise_column_name(name) in SENSITIVE_COLUMNS


def is_public_record_key(name: object) -> bool:
    return normalise_column_name(name) in PUBLIC_RECORD_COLUMNS
