"""Helpers for the report tests: the sample published file and a parser for the report.

The sample lives with the query tests; it is loaded by path, since test folders are not
packages.
"""

from __future__ import annotations

import importlib.util
import json
from html.parser import HTMLParser
from pathlib import Path

import duckdb

_spec = importlib.util.spec_from_file_location(
    "published_sample", Path(__file__).resolve().parent.parent / "query" / "published_sample.py"
)
published_sample = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(published_sample)


class _Page(HTMLParser):
    """Collects the report's machine-readable figures, its visible tiles and its links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.data_json = ""
        self.figures: dict[str, str] = {}
        self.effect_cells: dict[str, str] = {}
        self.resource_urls: list[str] = []
        self.scripts: list[dict] = []
        self._capture: tuple[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href", "xlink:href", "action", "poster", "data"):
            if attrs.get(name):
                self.resource_urls.append(attrs[name])
        if tag == "script":
            self.scripts.append(attrs)
            if attrs.get("id") == "report-data":
                self._capture = ("json", "")
        elif "data-figure" in attrs:
            self._capture = ("figure", attrs["data-figure"])
        elif "data-effect" in attrs:
            self._capture = ("effect", attrs["data-effect"])

    def handle_data(self, data):
        if self._capture is None:
            return
        kind, key = self._capture
        if kind == "json":
            self.data_json += data
        elif kind == "figure":
            self.figures[key] = self.figures.get(key, "") + data
        else:
            self.effect_cells[key] = self.effect_cells.get(key, "") + data

    def handle_endtag(self, tag):
        self._capture = None


def parse(path) -> tuple[_Page, dict]:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page, json.loads(page.data_json)


def sql(settings, query, params=None):
    con = duckdb.connect(str(settings.published_path), read_only=True)
    try:
        return con.execute(query, params or []).fetchall()
    finally:
        con.close()


def number(text: str) -> int:
    return int(text.replace(",", "").replace("−", "-").strip())
