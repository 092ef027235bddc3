"""docker-compose.yml, read statically: the services a real deployment needs, pinned images,
mounts that exist, and no secret committed. (There is no Docker engine in CI; the same
topology runs without Docker in test_postgres_topology.py.)"""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from disruptions.config import PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
AIRFLOW_SERVICES = {
    "airflow-api-server": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
}
SECRET_NAME = re.compile(r"PASSWORD(?!S_FILE)|SECRET|FERNET|TOKEN|_KEY$|SQL_ALCHEMY_CONN")
# A secret is either required from .env (${X:?message}) or optional and empty by default
# (${X:-}, an alert channel that is simply off).
SAFE_REFERENCE = re.compile(r"^\$\{[A-Z0-9_]+(:\?[^}]+|:-)\}$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _pin(requirement: str) -> str:
    for line in (PROJECT_ROOT / "requirements.in").read_text().splitlines():
        if line.startswith(f"{requirement}=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError(f"{requirement} is not pinned in requirements.in")


def test_compose_has_every_airflow_service_with_its_command(compose):
    services = compose["services"]
    for name, command in AIRFLOW_SERVICES.items():
        assert name in services, name
        assert services[name]["command"] == command
        assert "healthcheck" in services[name], name
    assert {"postgres", "airflow-init"} <= services.keys()
    assert "healthcheck" in services["postgres"]
    assert "airflow db migrate" in "\n".join(services["airflow-init"]["command"])


def test_airflow_services_use_local_executor_and_postgres_metadata(compose):
    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        env = compose["services"][name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/disruptions/dags"
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
        depends = compose["services"][name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        if name != "airflow-init":
            assert depends["airflow-init"]["condition"] == "service_completed_successfully"


def test_pipeline_state_lives_on_a_named_volume(compose):
    assert "disruptions-home" in compose["volumes"]
    scheduler = compose["services"]["airflow-scheduler"]
    assert "disruptions-home:/data/disruptions" in scheduler["volumes"]
    assert scheduler["environment"]["DISRUPTIONS_HOME"] == "/data/disruptions"
    landing = [v for v in scheduler["volumes"] if v.endswith(":/data/landing:ro")]
    assert landing, "the landing folder is mounted read-only"


def test_every_mounted_repository_path_exists(compose):
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (PROJECT_ROOT / source).exists(), f"{name}: {source}"
        build = service.get("build")
        if build:
            assert (PROJECT_ROOT / build["context"] / build["dockerfile"]).is_file()


def test_no_secret_is_committed(compose):
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                references = re.findall(r"\$\{[^}]+\}", str(value))
                assert references, f"{name}: {key} holds a literal value"
                for reference in references:
                    assert SAFE_REFERENCE.match(reference), f"{name}: {key} has a default"
    example = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    )
    for key, value in example.items():
        if SECRET_NAME.search(key):
            assert value == "", f".env.example ships a value for {key}"
    tracked = subprocess.run(
        ["git", "ls-files", ".env"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert tracked.stdout.strip() == ""
    assert ".env" in (PROJECT_ROOT / ".gitignore").read_text().splitlines()


def test_every_required_variable_is_listed_in_env_example(compose):
    text = COMPOSE.read_text()
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    listed = {
        line.split("=", 1)[0]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert required <= listed, required - listed


def test_images_are_pinned_and_match_requirements(compose):
    airflow_version = _pin("apache-airflow")
    base = re.search(r"^FROM (\S+)", DOCKERFILE.read_text(), re.MULTILINE).group(1)
    assert base == f"apache/airflow:{airflow_version}-python3.11"
    assert "--require-hashes -r" in DOCKERFILE.read_text()
    for name, service in compose["services"].items():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: {image}"
        if name.startswith("airflow") or name == "disruptions-cli":
            assert f"airflow{airflow_version}" in image, f"{name}: {image}"
    postgres_tag = compose["services"]["postgres"]["image"].split(":", 1)[1]
    assert re.match(r"^\d+\.\d+-", postgres_tag), "postgres pinned to a minor release"
    python = re.search(
        r'requires-python = ">=3\.(\d+)', (PROJECT_ROOT / "pyproject.toml").read_text()
    )
    assert base.endswith(f"python3.{python.group(1)}")


CELERY_OVERLAY = PROJECT_ROOT / "docker-compose.celery.yml"


def test_the_celery_overlay_runs_two_workers_on_redis_and_the_postgres_engine(compose):
    overlay = yaml.safe_load(CELERY_OVERLAY.read_text())
    services = overlay["services"]
    redis_image = services["redis"]["image"]
    assert re.match(r"^redis:\d+\.\d+\.\d+-", redis_image), redis_image
    workers = [
        name for name, service in services.items() if "celery worker" in str(service.get("command"))
    ]
    assert len(workers) == 2
    for name in workers:
        assert services[name]["extends"] == {
            "file": "docker-compose.yml",
            "service": "airflow-scheduler",
        }
        assert "healthcheck" in services[name]
    # Every Airflow service of the base file, and the workers, switch executor and engine.
    for name in [*AIRFLOW_SERVICES, "airflow-init", "disruptions-cli", *workers]:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
        assert env["DISRUPTIONS_ENGINE"] == "postgres"
        for key, value in env.items():
            if SECRET_NAME.search(key) or "URL" in key or "BACKEND" in key:
                for reference in re.findall(r"\$\{[^}]+\}", str(value)):
                    assert SAFE_REFERENCE.match(reference), f"{name}: {key} has a default"
    init = PROJECT_ROOT / "deploy" / "postgres-init" / "10-warehouse.sh"
    assert init.stat().st_mode & 0o111, "the init script must be executable"
    assert "CREATEROLE" in init.read_text() and "SUPERUSER" not in init.read_text()
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", CELERY_OVERLAY.read_text()))
    listed = {
        line.split("=", 1)[0]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert required <= listed, required - listed
    assert "requirements-celery.lock" in DOCKERFILE.read_text()
