"""The published file, opened as every reader opens it: read-only, with no access to any
other file.

1. the connection is read-only, so INSERT/UPDATE/CREATE on the file fail in DuckDB itself;
2. external access is switched off and the configuration locked, so ATTACH, COPY ... TO,
   read_csv('/etc/...'), INSTALL and LOAD cannot touch another file ("files outside the
   landing folder are never read"), and a query cannot switch that back on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from disruptions.config import Settings
from disruptions.errors import UserError


def published_path(settings: Settings, rocu: str | None = None) -> Path:
    """The national file, or a ROCU's regional file (`--rocu CODE`)."""
    if rocu is None:
        return settings.published_path
    code = rocu.strip().upper()
    path = settings.regional_published_path(code)
    if not path.is_file():
        known = sorted(found.stem for found in settings.regional_published_dir.glob("*.duckdb"))
        if not known:
            raise UserError(
                f"{path}: no regional files published yet; run `disruptions run` (or "
                "`disruptions demo`) first"
            )
        raise UserError(f"unknown ROCU {rocu!r}; published regions: {', '.join(known)}")
    return path


@contextmanager
def open_published_file(
    settings: Settings, rocu: str | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the published file (or a ROCU's regional file) read-only, with no access to
    any other file."""
    path = published_path(settings, rocu)
    if not path.is_file():
        raise UserError(
            f"{path}: no published marts yet; run `disruptions run` (or `disruptions demo`) first"
        )
    try:
        con = duckdb.connect(
            str(path),
            read_only=True,
            config={
                "enable_external_access": False,
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                "lock_configuration": True,
            },
        )
    except duckdb.Error as error:
        raise UserError(f"{path}: cannot open the published marts: {first_line(error)}") from None
    try:
        yield con
    finally:
        con.close()


def first_line(error: BaseException) -> str:
    """DuckDB's messages carry a caret diagram over several lines; the first says it all."""
    text = str(error).strip()
    return text.splitlines()[0].strip() if text else type(error).__name__


def list_marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        """
        SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'marts' AND table_catalog = current_database()
        ORDER BY table_name
        """
    ).fetchall()
    return [row[0] for row in rows]
