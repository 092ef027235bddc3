"""The one Jinja setup of the product's HTML pages (the report, the load-validation pages).

Autoescaping is on for every template, so a value from a sender's file can never become
markup; a page adds its own filters.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape


def html_environment(templates_dir: Path) -> Environment:
    return Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
