"""The pipeline's own log, and text made safe to print.

A landing file's name, a header or a sample value comes from a sender and may hold a
line break or a terminal escape sequence. Printed as it is, it could forge a log line or
repaint an on-call engineer's terminal. `printable` escapes such characters, and every
log record of this package passes its arguments through it (see `_escaping_factory`),
so a file name reaches the log as one visible line however it is spelt.
"""

from __future__ import annotations

import logging
import unicodedata
from pathlib import Path

PACKAGE_LOGGER = "disruptions"


def printable(value: object, limit: int | None = None) -> str:
    """The text with control, format and line-separator characters escaped (\\n, \\x1b,
    \\u2028...), and cut to `limit` characters if given."""
    text = str(value)
    escaped = "".join(
        char
        if char == " " or not unicodedata.category(char).startswith(("C", "Z"))
        else char.encode("unicode_escape").decode("ascii")
        for char in text
    )
    if limit is not None and len(escaped) > limit:
        escaped = escaped[: max(0, limit - 3)] + "..."
    return escaped


class MultiLine(str):
    """Text of the pipeline's own making whose line breaks are meant (dbt's output, say):
    its tabs and newlines are kept in the log, anything else is escaped."""


def _safe_argument(value: object) -> object:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, MultiLine):
        return "\n".join(
            "\t".join(printable(part) for part in line.split("\t")) for line in value.split("\n")
        )
    return printable(value)


def _escaping_factory(original):
    def make_record(*args, **kwargs) -> logging.LogRecord:
        record = original(*args, **kwargs)
        if record.name == PACKAGE_LOGGER or record.name.startswith(PACKAGE_LOGGER + "."):
            if isinstance(record.args, tuple):
                record.args = tuple(_safe_argument(arg) for arg in record.args)
            elif isinstance(record.args, dict):
                record.args = {key: _safe_argument(arg) for key, arg in record.args.items()}
        return record

    make_record.escapes_disruptions_arguments = True
    return make_record


def install_argument_escaping() -> None:
    """Escape the arguments of every log record this package makes (idempotent)."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "escapes_disruptions_arguments", False):
        logging.setLogRecordFactory(_escaping_factory(factory))


def attach_file_log(path: Path) -> None:
    """Send the package's log records to `path` as well as wherever they already go."""
    install_argument_escaping()
    path.parent.mkdir(parents=True, exist_ok=True)
    package_logger = logging.getLogger(PACKAGE_LOGGER)
    for handler in package_logger.handlers:
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == path:
            return
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    package_logger.addHandler(handler)
    if package_logger.level == logging.NOTSET or package_logger.level > logging.INFO:
        package_logger.setLevel(logging.INFO)
