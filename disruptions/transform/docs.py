"""The dbt docs site: one self-contained page at reports/dbt_docs/index.html.

The site describes the project (models, columns, tests, lineage) and the warehouse's
column types, which change only when the project does; the data's row counts are not in
it. So it is generated again only when the project's files (dbt_project/, the seeds) or
dbt's version changed since the page was written: `dbt docs generate` costs a dbt start,
a compile of every node and a catalog query, which a night with nothing new to show
should not pay.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from importlib.metadata import version
from pathlib import Path

from disruptions.config import DBT_PROJECT_DIR, SEEDS_DIR, Settings
from disruptions.transform.dbt import run_dbt
from disruptions.warehouse import open_warehouse, writer_lock

log = logging.getLogger(__name__)

DOCS_FINGERPRINT_FILE = "project.sha256"
# dbt's own files in the project folder: not part of what the docs describe.
NOT_PROJECT = {"target", "logs", "dbt_packages", ".user.yml"}


def project_fingerprint() -> str:
    """sha256 over every project file's path and bytes, the seeds and dbt's version."""
    digest = hashlib.sha256(f"dbt-core {version('dbt-core')}".encode())
    folders = [(DBT_PROJECT_DIR, "dbt_project"), (SEEDS_DIR, "seeds")]
    for folder, name in folders:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if path.is_file() and not NOT_PROJECT.intersection(relative.parts):
                digest.update(f"{name}/{relative.as_posix()}\0".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def generate_dbt_docs(settings: Settings, force: bool = False) -> Path:
    """Write the self-contained dbt docs site to reports/dbt_docs/index.html, unless the
    page there already describes this project."""
    destination = settings.dbt_docs_dir / "index.html"
    marker = settings.dbt_docs_dir / DOCS_FINGERPRINT_FILE
    fingerprint = project_fingerprint()
    if not force and destination.is_file() and _read(marker) == fingerprint:
        log.info("dbt docs: the project has not changed since %s was written", destination)
        return destination
    # No vars, like the build: dbt reuses the build's parse (as_of is in audit.run_context).
    with writer_lock(settings):
        with open_warehouse(settings):
            pass
        run_dbt(settings, "docs", "generate", "--static")
    static_page = settings.dbt_target_dir / "static_index.html"
    settings.dbt_docs_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(static_page, destination)
    temporary = marker.with_suffix(".tmp")
    temporary.write_text(fingerprint, encoding="utf-8")
    os.replace(temporary, marker)
    return destination


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None
