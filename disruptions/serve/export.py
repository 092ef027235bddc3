"""`disruptions export`: a published mart to csv, parquet or xlsx, safe to open in Excel."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from disruptions.config import Settings
from disruptions.engines import open_published
from disruptions.errors import UserError
from disruptions.serve.files import write_atomically
from disruptions.serve.formats import escape_formula, format_csv, plain
from disruptions.serve.published import list_marts

EXPORT_FORMATS = ("csv", "parquet", "xlsx")
_XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row


# --- the export command ----------------------------------------------------------------------


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def export_mart(
    settings: Settings, mart: str, output_format: str = "csv", out: str | Path | None = None
) -> Path:
    """Write one published mart to csv, parquet or xlsx; text cells are formula-safe."""
    if output_format not in EXPORT_FORMATS:
        raise UserError(
            f"unknown export format {output_format!r}; use one of {', '.join(EXPORT_FORMATS)}"
        )
    with open_published(settings, named_in=mart) as con:
        marts = list_marts(con)
        # The name only reaches SQL as the catalog's own spelling of an existing table.
        matches = [name for name in marts if name == mart.strip()]
        if not matches:
            raise UserError(f"no mart named {mart!r}; marts: {', '.join(marts) or '(none)'}")
        relation = con.sql(f"SELECT * FROM marts.{_quote_identifier(matches[0])}")
        target = Path(out) if out else settings.home / "exports" / f"{matches[0]}.{output_format}"
        target = Path(os.path.abspath(target))  # symlinks are refused, not followed
        if output_format == "parquet":
            table = relation.to_arrow_table()
            write_atomically(target, lambda path: _write_parquet(table, path))
        else:
            columns = list(relation.columns)
            rows = relation.fetchall()
            if output_format == "csv":
                data = format_csv(columns, rows)
                write_atomically(target, lambda path: path.write_text(data, encoding="utf-8"))
            else:
                if len(rows) > _XLSX_MAX_ROWS:
                    raise UserError(
                        f"{matches[0]} has {len(rows)} rows, more than an Excel sheet holds; "
                        "export it as csv or parquet instead"
                    )
                write_atomically(target, lambda path: _write_xlsx(matches[0], columns, rows, path))
    return target


def _write_parquet(table, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, path)


# Control characters an XLSX cell cannot hold (openpyxl refuses them); each is shown as
# its Unicode "control picture" instead (\x0b becomes \u240b), so the cell still says
# something was there.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xlsx_text(value: str) -> str:
    return _XLSX_ILLEGAL.sub(lambda match: chr(0x2400 + ord(match.group())), value)


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, dict | list | tuple):
        value = json.dumps(plain(value), ensure_ascii=False)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        value = _xlsx_text(value)
    return escape_formula(value)


def _write_xlsx(sheet_name: str, columns: Sequence[str], rows, path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_name[:31])
    sheet.append([escape_formula(_xlsx_text(column)) for column in columns])
    for row in rows:
        sheet.append([_xlsx_value(value) for value in row])
    workbook.save(path)
