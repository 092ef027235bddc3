"""All configuration in one place, read from the environment.

Every default works out of the box: with nothing set, the pipeline keeps its state
under ./data. Commands pass `--home` to override DISRUPTIONS_HOME.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

# The repository root: the package sits directly beneath it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
SEEDS_DIR = PROJECT_ROOT / "seeds"
QUERIES_DIR = PROJECT_ROOT / "queries"
DAGS_DIR = PROJECT_ROOT / "dags"

# The one time zone of the product: a run's as_of is its logical date in this zone, and
# the scheduled run fires at 02:00 here.
TIMEZONE = "Europe/London"
SCHEDULED_HOUR = 2
# The public marts (schema `marts`), in the order a performance lead meets them. Each has
# a GX suite of the same name in expectations/ and its definition in the dbt YAML.
PUBLIC_MARTS = (
    "ocg_disruption_summary",
    "ocg_long_term_effect",
    "disruptions_monthly",
    "tactic_effectiveness",
    "rocu_force_balance",
    "dim_ocg_assessment_history",
)
FILE_FORMATS = (".csv", ".parquet", ".jsonl")


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None
    port: int
    user: str | None
    password: str | None = field(repr=False)
    starttls: bool
    email_from: str | None
    email_to: tuple[str, ...]

    @property
    def enabled(self) -> bool:
        """A channel whose settings are absent is simply off."""
        return bool(self.host and self.email_to)


@dataclass(frozen=True)
class Settings:
    home: Path
    landing: Path
    smtp: SmtpSettings
    webhook_url: str | None = field(repr=False)
    # How long a file must have been left unchanged before ingest trusts it is complete.
    landing_settle_seconds: float = 2.0
    # How long a writer waits for the warehouse lock before giving up.
    writer_lock_timeout_seconds: float = 3600.0
    # DuckDB's buffer pool for pipeline work (ingest, dbt, publish). Its own default is 80%
    # of RAM, which lets one night's 10M-row window functions take the machine; with a cap
    # DuckDB spills to disk instead. A DuckDB size string, e.g. "2GB".
    duckdb_memory_limit: str = "2GB"
    # Above these an assessment loads with a warning (expectations/ocg_assessments_batch):
    # a value nobody could mean, such as 2147483647, would distort every mean it enters.
    plausible_max_threat_score: int = 1000
    plausible_max_member_count: int = 1000

    # --- derived locations -------------------------------------------------------
    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def writer_lock_path(self) -> Path:
        return self.home / "warehouse.lock"

    @property
    def published_dir(self) -> Path:
        return self.home / "published"

    @property
    def published_path(self) -> Path:
        # Not marts.duckdb: the file name becomes the catalog name, and a catalog named
        # like the schema makes every `marts.x` reference ambiguous.
        return self.published_dir / "disruptions.duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def report_path(self) -> Path:
        return self.reports_dir / "report.html"

    def regional_report_path(self, rocu_code: str) -> Path:
        return self.reports_dir / f"report-{rocu_code}.html"

    @property
    def data_docs_dir(self) -> Path:
        return self.reports_dir / "data_docs"

    @property
    def dbt_docs_dir(self) -> Path:
        return self.reports_dir / "dbt_docs"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def dbt_target_dir(self) -> Path:
        return self.home / "dbt_target"

    @property
    def airflow_home(self) -> Path:
        return Path(os.environ.get("AIRFLOW_HOME") or self.home / "airflow")

    def ensure_dirs(self) -> None:
        for path in (self.home, self.landing, self.published_dir, self.reports_dir, self.logs_dir):
            path.mkdir(parents=True, exist_ok=True)


def load_settings(home: str | Path | None = None, landing: str | Path | None = None) -> Settings:
    """Build settings from the environment; explicit arguments win over it."""
    home_path = Path(home or os.environ.get("DISRUPTIONS_HOME") or "data").resolve()
    landing_path = Path(
        landing or os.environ.get("DISRUPTIONS_LANDING") or home_path / "landing"
    ).resolve()
    email_to = tuple(
        address.strip()
        for address in os.environ.get("DISRUPTIONS_ALERT_EMAIL_TO", "").split(",")
        if address.strip()
    )
    smtp = SmtpSettings(
        host=os.environ.get("DISRUPTIONS_SMTP_HOST") or None,
        port=_env_int("DISRUPTIONS_SMTP_PORT", 25),
        user=os.environ.get("DISRUPTIONS_SMTP_USER") or None,
        password=os.environ.get("DISRUPTIONS_SMTP_PASSWORD") or None,
        starttls=_env_bool("DISRUPTIONS_SMTP_STARTTLS", False),
        email_from=os.environ.get("DISRUPTIONS_ALERT_EMAIL_FROM") or "disruptions@localhost",
        email_to=email_to,
    )
    return Settings(
        home=home_path,
        landing=landing_path,
        smtp=smtp,
        webhook_url=os.environ.get("DISRUPTIONS_ALERT_WEBHOOK_URL") or None,
        landing_settle_seconds=float(os.environ.get("DISRUPTIONS_LANDING_SETTLE_SECONDS", "2")),
        duckdb_memory_limit=os.environ.get("DISRUPTIONS_DUCKDB_MEMORY_LIMIT", "").strip() or "2GB",
        plausible_max_threat_score=_env_int("DISRUPTIONS_PLAUSIBLE_MAX_THREAT_SCORE", 1000),
        plausible_max_member_count=_env_int("DISRUPTIONS_PLAUSIBLE_MAX_MEMBER_COUNT", 1000),
    )
