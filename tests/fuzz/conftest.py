"""Hypothesis profiles: `ci` (the default, bounded and deterministic, for `make test`) and
`fuzz` (`make fuzz`: many more random examples)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
settings.register_profile("ci", max_examples=12, derandomize=True, **COMMON)
settings.register_profile("fuzz", max_examples=400, **COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# The whole-night property runs Airflow, dbt and GX per example: far fewer examples.
RUN_EXAMPLES = {"ci": 2, "fuzz": 25}[os.environ.get("HYPOTHESIS_PROFILE", "ci")]
