"""The feed suites and Great Expectations: loading the reviewable JSON, running a suite on a
frame, and turning GX's results into what an alert or a page needs.

Each expectation's meta says whether it is critical or a warning. One GX context (an
ephemeral one: suites live in expectations/, results in audit.batch_validations) serves a
whole step, with one validation definition per suite.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

from disruptions.config import EXPECTATIONS_DIR, Settings
from disruptions.feeds import is_sensitive_column
from disruptions.logs import printable
from disruptions.quality.alerts import scrub

logger = logging.getLogger(__name__)

FEED_SUITES = {"disruptions": "disruptions_batch", "ocg_assessments": "ocg_assessments_batch"}
SAMPLE_VALUES = 5  # sample values per failing expectation in an alert


# --- results ----------------------------------------------------------------------------


@dataclass
class ExpectationFailure:
    expectation: str
    severity: str
    why: str
    column: str | None
    failing_rows: int | None
    failing_percent: float | None
    observed_value: Any
    samples: list
    error: str | None = None

    def describe(self) -> str:
        where = f" on {self.column}" if self.column else ""
        if self.error:
            return f"{self.expectation}{where}: could not be evaluated ({self.error})"
        text = f"{self.expectation}{where}"
        if self.failing_rows is not None:
            percent = f" ({self.failing_percent:.2f}%)" if self.failing_percent is not None else ""
            text += f": {self.failing_rows} failing rows{percent}"
        elif self.observed_value is not None:
            text += f": observed {printable(self.observed_value, 200)}"
        if self.samples:
            text += f"; e.g. {', '.join(printable(value, 80) for value in self.samples)}"
        return text

    def as_dict(self) -> dict:
        return scrub(
            {
                "expectation": self.expectation,
                "severity": self.severity,
                "column": self.column,
                "failing_rows": self.failing_rows,
                "failing_percent": self.failing_percent,
                "observed_value": self.observed_value,
                "samples": self.samples,
                "why": self.why,
                "error": self.error,
            }
        )


@dataclass
class SuiteOutcome:
    suite_name: str
    rows: int
    evaluated: int
    failures: list[ExpectationFailure]
    seconds: float
    # Every expectation's result, passed or not, in suite order, as stored for the load
    # validation pages (load_docs.py).
    results: list[dict] = field(default_factory=list)

    @property
    def critical(self) -> list[ExpectationFailure]:
        return [f for f in self.failures if f.severity == "critical"]

    @property
    def warnings(self) -> list[ExpectationFailure]:
        return [f for f in self.failures if f.severity != "critical"]


# --- suites and the GX context ----------------------------------------------------------


def load_suite_definition(name: str) -> dict:
    path = EXPECTATIONS_DIR / f"{name}.json"
    definition = json.loads(path.read_text(encoding="utf-8"))
    for expectation in definition["expectations"]:
        severity = expectation.get("meta", {}).get("severity")
        if severity not in ("critical", "warning"):
            raise ValueError(f"{path}: {expectation['type']} has no meta.severity critical|warning")
    return definition


def import_gx() -> None:
    _configure_gx_environment()
    import great_expectations  # noqa: F401


def _configure_gx_environment() -> None:
    # No phoning home from a police data pipeline, and no progress bars in the logs.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def _skip_dataframe_fingerprint() -> None:
    """GX's pandas engine hashes every DataFrame under 1 GB into an md5 "batch marker"
    (pandas_data_fingerprint) before validating it. Nothing in the validation uses that
    marker, and on a 10M-row batch the hash costs more than all expectations together, so
    it is switched off by setting the engine's size threshold to zero."""
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0


class SuiteRunner:
    """One GX file context for a whole step; one validation definition per suite."""

    def __init__(self, settings: Settings) -> None:
        _configure_gx_environment()
        import great_expectations as gx

        _skip_dataframe_fingerprint()
        self._gx = gx
        self.settings = settings
        # Ephemeral: suites live in expectations/, results in audit.batch_validations,
        # and the pages stewards read are load_docs.py's, so GX keeps no files of its own.
        self.context = gx.get_context(mode="ephemeral")
        self._configure_context()
        datasource = self.context.data_sources.add_or_update_pandas("disruptions_frames")
        try:
            asset = datasource.get_asset("frames")
        except LookupError:
            asset = datasource.add_dataframe_asset("frames")
        try:
            self.batch_definition = asset.get_batch_definition("whole_frame")
        except (KeyError, LookupError):
            self.batch_definition = asset.add_batch_definition_whole_dataframe("whole_frame")
        self._definitions: dict[str, Any] = {}
        self._suite_json: dict[str, dict] = {}

    def _configure_context(self) -> None:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        # Progress bars would fill the logs; nothing is saved (the context is ephemeral).
        self.context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )

    def definition(self, suite_name: str):
        if suite_name not in self._definitions:
            gx = self._gx
            raw = load_suite_definition(suite_name)
            suite = gx.ExpectationSuite(
                name=suite_name,
                expectations=raw["expectations"],
                meta=raw.get("meta"),
            )
            # ExpectationSuite drops an invalid expectation with only a log line: refuse.
            if len(suite.expectations) != len(raw["expectations"]):
                raise ValueError(
                    f"{EXPECTATIONS_DIR / (suite_name + '.json')}: "
                    f"{len(raw['expectations']) - len(suite.expectations)} expectation(s) "
                    "are not valid GX 1.x configurations"
                )
            suite = self.context.suites.add_or_update(suite)
            self._definitions[suite_name] = self.context.validation_definitions.add_or_update(
                gx.ValidationDefinition(
                    name=f"{suite_name}__frames", data=self.batch_definition, suite=suite
                )
            )
            self._suite_json[suite_name] = raw
        return self._definitions[suite_name]

    def run(self, suite_name: str, frame, parameters: dict) -> SuiteOutcome:
        started = time.perf_counter()
        definition = self.definition(suite_name)
        result = definition.run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=parameters,
            # BASIC has what an alert needs (failing-row count, a few unexpected values,
            # observed values) and costs about a third less per batch than SUMMARY.
            result_format={"result_format": "BASIC", "partial_unexpected_count": SAMPLE_VALUES},
        )
        failures = [_failure(item) for item in result.results if not item.success]
        results = [
            {**_failure(item).as_dict(), "success": bool(item.success)} for item in result.results
        ]
        self._drop_cached_batches(definition)
        return SuiteOutcome(
            suite_name=suite_name,
            rows=len(frame),
            evaluated=len(result.results),
            failures=failures,
            seconds=time.perf_counter() - started,
            results=results,
        )

    def _drop_cached_batches(self, definition) -> None:
        """Let go of the frame just validated. GX's execution engine caches every batch it
        has loaded, and GX's project manager keeps the context (and so the engine) alive
        for the whole process: without this, the last frame of a step (1 GB at 10M rows)
        stays in memory through the rest of the embedded Airflow run, and each frame
        stays while the next one is built."""
        datasources = [definition.data.data_asset.datasource]
        datasources += list(self.context.data_sources.all().values())
        for datasource in datasources:
            engine = getattr(datasource, "_execution_engine", None)
            manager = getattr(engine, "batch_manager", None)
            if manager is not None:
                manager.reset_batch_cache()
                manager.batch_data_cache.clear()


def _column_of(kwargs: dict) -> str | None:
    if kwargs.get("column"):
        return str(kwargs["column"])
    if kwargs.get("column_list"):
        return ", ".join(kwargs["column_list"])
    if kwargs.get("column_A"):
        return f"{kwargs['column_A']}, {kwargs['column_B']}"
    return None


def _failure(item) -> ExpectationFailure:
    config = item.expectation_config
    meta = config.meta or {}
    result = item.result or {}
    error = None
    info = item.exception_info or {}
    if info.get("raised_exception"):
        error = info.get("exception_message")
    else:  # GX nests exceptions per metric
        for value in info.values():
            if isinstance(value, dict) and value.get("raised_exception"):
                error = value.get("exception_message")
                break
    samples = [
        _sample(value)
        for value in (result.get("partial_unexpected_list") or [])[:SAMPLE_VALUES]
        if not (isinstance(value, dict) and any(map(is_sensitive_column, value)))
    ]
    failing_rows = result.get("unexpected_count")
    percent = result.get("unexpected_percent")
    return ExpectationFailure(
        expectation=config.type,
        # An expectation that cannot even be evaluated is a broken check: never let it pass
        # as a warning.
        severity="critical" if error else meta.get("severity", "critical"),
        why=meta.get("why", ""),
        column=_column_of(config.kwargs),
        failing_rows=int(failing_rows) if failing_rows is not None else None,
        failing_percent=round(float(percent), 4) if percent is not None else None,
        observed_value=_sample(result.get("observed_value")),
        samples=samples,
        error=error[:300] if error else None,
    )


def _sample(value: Any) -> Any:
    """A short, JSON-friendly rendering of one failing value (or pair, or row key)."""
    if isinstance(value, dict):
        return {k: _sample(v) for k, v in value.items() if not is_sensitive_column(k)}
    if isinstance(value, list | tuple):
        return [_sample(v) for v in value[:SAMPLE_VALUES]]
    if hasattr(value, "item") and not hasattr(value, "isoformat"):  # numpy scalars
        if type(value).__name__ == "datetime64":
            import pandas as pd

            value = pd.Timestamp(value)
        else:
            value = value.item()
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."
