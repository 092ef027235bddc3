"""Seeded random streams, and the small drawing helpers every part of the sample uses."""

from __future__ import annotations

from datetime import date

import numpy as np

EPOCH = date(1970, 1, 1)

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
