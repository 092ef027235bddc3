"""The dbt docs site: one self-contained page at reports/dbt_docs/index.html."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from disruptions.config import Settings
from disruptions.transform.build import read_last_build
from disruptions.transform.dbt import run_dbt
from disruptions.warehouse import open_warehouse, writer_lock

log = logging.getLogger(__name__)


def generate_dbt_docs(settings: Settings) -> Path:
    """Write the self-contained dbt docs site to reports/dbt_docs/index.html."""
    # The last build's as_of: the docs then show the SQL that built the marts, and dbt
    # can reuse that build's parse instead of parsing the project again.
    as_of = read_last_build(settings).get("as_of")
    as_of_vars = ["--vars", json.dumps({"as_of": as_of})] if as_of else []
    with writer_lock(settings):
        with open_warehouse(settings):
            pass
        run_dbt(settings, "docs", "generate", "--static", *as_of_vars)
    static_page = settings.dbt_target_dir / "static_index.html"
    settings.dbt_docs_dir.mkdir(parents=True, exist_ok=True)
    destination = settings.dbt_docs_dir / "index.html"
    shutil.copyfile(static_page, destination)
    return destination
