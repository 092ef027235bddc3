"""Helpers for the report tests: the sample published file, a parser for the report, SQL
on a published (national or regional) file.

The sample lives with the query tests; it is loaded by path, since test folders are not
packages.
"""

from __future__ import annotations

import importlib.util
import json
import re
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
        self.ids: list[str] = []
        self.scripts: list[dict] = []
        self._capture: tuple[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.append(attrs["id"])
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


def sql(settings, query, params=None, rocu: str | None = None):
    """SQL on the national published file, or on a ROCU's regional file."""
    path = settings.regional_published_path(rocu) if rocu else settings.published_path
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(query, params or []).fetchall()
    finally:
        con.close()


def change(path, *statements: str) -> None:
    """Run statements on a published file (each test has its own copy)."""
    con = duckdb.connect(str(path))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


TOP_OCG_ROW = re.compile(
    r'<tr data-ocg="([^"]*)"><th scope="row"><a href="#([^"]*)">([^<]*)</a></th>'
)
# A <details> per OCG; the link target is the body inside it (so following the link opens it).
EXPLANATION = re.compile(
    r'<details class="explanation" data-explained-ocg="[^"]*">(\s*<summary>.*?</summary>.*?)'
    r'<div id="([^"]*)" class="explanation-body" data-explained-ocg="([^"]*)">(.*?)</details>',
    re.DOTALL,
)


def top_ocg_links(html: str) -> list[tuple[str, str, str]]:
    """(ocg_id, link target, link text) of each row of the top-OCG table."""
    return TOP_OCG_ROW.findall(html)


def explanations(html: str) -> dict[str, tuple[str, str]]:
    """Each explanation element of the report: id -> (the OCG it names, its HTML)."""
    return {
        anchor: (ocg, summary + body) for summary, anchor, ocg, body in EXPLANATION.findall(html)
    }


def number(text: str) -> int:
    return int(text.replace(",", "").replace("−", "-").strip())
