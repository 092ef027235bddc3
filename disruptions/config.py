"""All configuration in one place, read from the environment.

Every default works out of the box: with nothing set, the pipeline keeps its state
under ./data. Commands pass `--home` to override DISRUPTIONS_HOME.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# The source checkout, when there is one: the package sits directly beneath it.
PROJECT_ROOT = PACKAGE_DIR.parent
PROJECT_FILE_FOLDERS = ("dbt_project", "expectations", "seeds", "queries", "dags")


def _project_files() -> Path:
    """Where the project's own files are (the dbt project, the GX suites, the seeds, the
    saved queries, the DAG). An installed package carries them inside it, in
    disruptions/_project (copied there by setup.py's build step); a source checkout, and
    an editable install of it, has them beside the package. DISRUPTIONS_PROJECT_FILES
    points elsewhere, for an operator's own copy (their national banding in seeds/, say).
    """
    override = os.environ.get("DISRUPTIONS_PROJECT_FILES", "").strip()
    candidates = [Path(override)] if override else [PACKAGE_DIR / "_project", PROJECT_ROOT]
    for candidate in candidates:
        if all((candidate / folder).is_dir() for folder in PROJECT_FILE_FOLDERS):
            return candidate.resolve()
    raise RuntimeError(
        "the project files ("
        + ", ".join(PROJECT_FILE_FOLDERS)
        + ") are not in "
        + " or ".join(str(candidate) for candidate in candidates)
        + ": reinstall the package, or set DISRUPTIONS_PROJECT_FILES"
    )


PROJECT_FILES = _project_files()

# A ROCU code names a file (published/regions/<CODE>.duckdb): letters, digits and
# underscores only, so that `--rocu ../disruptions` cannot reach another file.
ROCU_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,31}")


def checked_rocu_code(code: str) -> str:
    if not ROCU_CODE.fullmatch(code):
        from disruptions.errors import UserError

        raise UserError(
            f"{code!r} is not a ROCU code (capital letters, digits and underscores, e.g. EMSOU)"
        )
    return code


DBT_PROJECT_DIR = PROJECT_FILES / "dbt_project"
EXPECTATIONS_DIR = PROJECT_FILES / "expectations"
SEEDS_DIR = PROJECT_FILES / "seeds"
QUERIES_DIR = PROJECT_FILES / "queries"
DAGS_DIR = PROJECT_FILES / "dags"

# The one time zone of the product: a run's as_of is its logical date in this zone, and
# the scheduled run fires at 02:00 here.
TIMEZONE = "Europe/London"
SCHEDULED_HOUR = 2
# The public marts (schema `marts`), in the order a performance lead meets them (the
# glossary's order). Each has its exact definition in its dbt YAML.
PUBLIC_MARTS = (
    "ocg_disruption_summary",
    "ocg_long_term_effect",
    "disruptions_monthly",
    "tactic_effectiveness",
    "rocu_force_balance",
    "dim_ocg_assessment_history",
    "fct_disruption_claims",
    "fct_ocg_effect_evidence",
)
FILE_FORMATS = (".csv", ".parquet", ".jsonl")
# Where the warehouse lives (DISRUPTIONS_ENGINE, SPEC section 7; disruptions/engines/).
# Anything else is refused rather than silently replaced by DuckDB, which would leave an
# operator believing the national warehouse had been loaded.
ENGINES = ("duckdb", "postgres", "spark")
# DISRUPTIONS_SPARK_MASTER: a local session (local, local[N], local[*]) or a cluster's
# master URL (spark://host:port, yarn, k8s://...).
SPARK_MASTER = re.compile(r"local(\[(\d+|\*)\])?|spark://[A-Za-z0-9.\-]+:\d+|yarn|k8s://\S+")


def checked_engine(value: str | None) -> str:
    from disruptions.errors import UserError

    engine = (value or "").strip().lower() or "duckdb"
    if engine not in ENGINES:
        raise UserError(
            f"DISRUPTIONS_ENGINE={value!r} is not an engine: choose one of {', '.join(ENGINES)}"
        )
    return engine


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _env_float(name: str, default: float, minimum: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        return max(minimum, float(value)) if value else default
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a number") from None


def task_retries(default: int) -> int:
    """How often an Airflow task retries a transient failure. `disruptions run` sets 0:
    someone is waiting at the terminal; the scheduled DAG uses its default."""
    return _env_int("DISRUPTIONS_TASK_RETRIES", default)


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
class DeliveryPolicy:
    """How hard to try an alert channel. Short by default: a slow channel must not stall a
    run."""

    attempts: int = 3
    first_delay_seconds: float = 0.5  # then doubled: 0.5 s, 1 s, ...
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class Settings:
    home: Path
    landing: Path
    smtp: SmtpSettings
    webhook_url: str | None = field(repr=False)
    engine: str = "duckdb"
    # DISRUPTIONS_POSTGRES_URL, postgresql://user:password@host:port/db: the pipeline's
    # writer on the postgres engine (engines/postgres.py). Never printed.
    postgres_url: str | None = field(default=None, repr=False)
    # DISRUPTIONS_SPARK_MASTER and DISRUPTIONS_SPARK_WAREHOUSE_DIR (engines/spark.py; unset,
    # $DISRUPTIONS_HOME/spark). The folder must be the same path on every machine of a
    # cluster (a shared file system).
    spark_master: str = "local[2]"
    spark_warehouse_dir: Path | None = None
    # DISRUPTIONS_SPARK_DBT: the dbt that has the Spark adapter. It lives in a virtualenv
    # of its own (requirements-spark.in); by default the product's virtualenv's name plus
    # "-spark", beside it (.venv-spark for .venv, as `make venv-spark` makes it).
    spark_dbt: Path | None = None
    alert_delivery: DeliveryPolicy = DeliveryPolicy()
    # Who `release` and `discard` record as the deciding steward (default: the login name).
    steward: str | None = None
    # How long a file must have been left unchanged before ingest trusts it is complete.
    landing_settle_seconds: float = 2.0
    # How long a writer waits for the warehouse lock before giving up.
    writer_lock_timeout_seconds: float = 3600.0
    # DuckDB's buffer pool for pipeline work (ingest, dbt, publish). Its own default is 80%
    # of RAM, which lets one night's 10M-row window functions take the machine; with a cap
    # DuckDB spills to disk instead. A DuckDB size string, e.g. "2GB".
    duckdb_memory_limit: str = "2GB"
    # How many published files are written at once (the national one and the regional
    # ones). Writing a file leaves a core idle; beyond the cores there is no gain.
    publish_workers: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))
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
    def regional_published_dir(self) -> Path:
        return self.published_dir / "regions"

    def regional_published_path(self, rocu_code: str) -> Path:
        return self.regional_published_dir / f"{checked_rocu_code(rocu_code)}.duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def report_path(self) -> Path:
        return self.reports_dir / "report.html"

    def regional_report_path(self, rocu_code: str) -> Path:
        return self.reports_dir / f"report-{checked_rocu_code(rocu_code)}.html"

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


def _postgres_url(engine: str) -> str | None:
    url = os.environ.get("DISRUPTIONS_POSTGRES_URL", "").strip() or None
    if engine == "postgres" and not url:
        from disruptions.errors import UserError

        raise UserError(
            "DISRUPTIONS_ENGINE=postgres needs DISRUPTIONS_POSTGRES_URL "
            "(postgresql://user:password@host:port/db; see .env.example)"
        )
    if url and not url.startswith(("postgresql://", "postgres://")):
        from disruptions.errors import UserError

        # Only the scheme is quoted back: the rest can hold a password.
        raise UserError(
            f"DISRUPTIONS_POSTGRES_URL must start with postgresql://, not {url.split(':')[0]!r}"
        )
    return url


def _optional_path(variable: str) -> Path | None:
    value = os.environ.get(variable, "").strip()
    return Path(value).resolve() if value else None


def _spark_dbt() -> Path:
    configured = os.environ.get("DISRUPTIONS_SPARK_DBT", "").strip()
    if configured:
        return Path(configured)
    venv = Path(sys.executable).parent.parent
    return venv.with_name(venv.name + "-spark") / "bin" / "dbt"


def _spark_master() -> str:
    master = os.environ.get("DISRUPTIONS_SPARK_MASTER", "").strip() or "local[2]"
    if not SPARK_MASTER.fullmatch(master):
        from disruptions.errors import UserError

        raise UserError(
            f"DISRUPTIONS_SPARK_MASTER={master[:80]!r} is not a Spark master: use local[N] "
            "or spark://host:port"
        )
    return master


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
    engine = checked_engine(os.environ.get("DISRUPTIONS_ENGINE"))
    return Settings(
        home=home_path,
        landing=landing_path,
        smtp=smtp,
        engine=engine,
        postgres_url=_postgres_url(engine),
        spark_master=_spark_master() if engine == "spark" else "local[2]",
        spark_warehouse_dir=_optional_path("DISRUPTIONS_SPARK_WAREHOUSE_DIR"),
        spark_dbt=_spark_dbt(),
        webhook_url=os.environ.get("DISRUPTIONS_ALERT_WEBHOOK_URL") or None,
        alert_delivery=DeliveryPolicy(
            attempts=max(1, _env_int("DISRUPTIONS_ALERT_RETRY_ATTEMPTS", 3)),
            first_delay_seconds=_env_float("DISRUPTIONS_ALERT_RETRY_DELAY_SECONDS", 0.5, 0.0),
            timeout_seconds=_env_float("DISRUPTIONS_ALERT_TIMEOUT_SECONDS", 10.0, 0.1),
        ),
        steward=os.environ.get("DISRUPTIONS_STEWARD") or None,
        landing_settle_seconds=float(os.environ.get("DISRUPTIONS_LANDING_SETTLE_SECONDS", "2")),
        duckdb_memory_limit=os.environ.get("DISRUPTIONS_DUCKDB_MEMORY_LIMIT", "").strip() or "2GB",
        plausible_max_threat_score=_env_int("DISRUPTIONS_PLAUSIBLE_MAX_THREAT_SCORE", 1000),
        plausible_max_member_count=_env_int("DISRUPTIONS_PLAUSIBLE_MAX_MEMBER_COUNT", 1000),
    )
