"""Finding landing files, waiting until they are complete, and fingerprinting them.

Source files are never modified or deleted; they are only opened for reading, and a
file whose real location is outside the landing folder is never opened at all.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from disruptions.config import FILE_FORMATS
from disruptions.feeds import FEEDS

log = logging.getLogger(__name__)

HASH_CHUNK_BYTES = 8 << 20
# File timestamps advance in coarse clock ticks (milliseconds), so a write in the same
# tick as the one before it may leave mtime and ctime unchanged. A file whose last change
# is younger than this is checked by hashing it again rather than by its status alone.
TIMESTAMP_TRUST_SECONDS = 2.0
# Names that senders and editors use while a file is still being written or edited.
TEMPORARY_SUFFIXES = (".part", ".partial", ".tmp", ".temp", ".crdownload", ".swp", "~")


@dataclass(frozen=True)
class LandingFile:
    relative: str  # POSIX path relative to the landing folder: the ledger's source_file
    path: Path  # where it sits in the landing folder (may be a symlink)
    real_path: Path | None  # symlinks resolved; None when it must not be opened
    feed: str | None
    file_format: str  # lower-case suffix, e.g. ".csv"
    problem: str | None  # why it is refused without being loaded, if it is


@dataclass(frozen=True)
class FileStatus:
    """What changes whenever a file's bytes change: any write moves mtime and ctime (and
    ctime cannot be set back by the writer), and a replaced file has a new inode."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, status: os.stat_result) -> FileStatus:
        return cls(
            status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns
        )


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    size: int
    newline_count: int
    ends_with_newline: bool
    # The file's status before its bytes were read, and when that was (time.time_ns()).
    status: FileStatus | None = None
    taken_at_ns: int = 0

    @property
    def physical_lines(self) -> int:
        return self.newline_count + (0 if self.ends_with_newline or self.size == 0 else 1)

    def same_bytes(self, other: Fingerprint) -> bool:
        return (self.sha256, self.size) == (other.sha256, other.size)


def is_ignored_name(name: str) -> bool:
    """Hidden files and the temporary names of files still being written or edited."""
    return name.startswith((".", "~$")) or name.lower().endswith(TEMPORARY_SUFFIXES)


def feed_of(name: str) -> str | None:
    lowered = name.lower()
    return next((feed for feed in FEEDS if lowered.startswith(feed)), None)


def classify(path: Path, landing_real: Path) -> LandingFile | None:
    """What to do with one file; None for files that are not feed files at all."""
    relative = path.relative_to(landing_real).as_posix()
    feed = feed_of(path.name)
    file_format = path.suffix.lower()
    if feed is None and file_format not in FILE_FORMATS:
        log.info("ignoring %s: not a feed file", relative)
        return None
    real_path = path.resolve()
    problem = None
    if not real_path.is_relative_to(landing_real):
        # Never follow it: the target may be anything the pipeline's account can read.
        problem = "symlink points outside the landing folder; refused without reading it"
        real_path = None
    elif not real_path.is_file():
        problem = "not a regular file (broken symlink?)"
        real_path = None
    elif feed is None:
        problem = "file name matches no feed: it must start with " + " or ".join(FEEDS)
    elif file_format not in FILE_FORMATS:
        problem = f"unsupported format '{file_format}': expected " + ", ".join(FILE_FORMATS)
    return LandingFile(relative, path, real_path, feed, file_format, problem)


def discover_landing_files(landing: Path) -> list[LandingFile]:
    """Every feed file under the landing folder, sub-folders included, sorted by path."""
    landing_real = landing.resolve()
    found: list[LandingFile] = []
    for folder, subfolders, names in os.walk(landing_real):
        # Symlinked folders are not descended into: they could lead anywhere.
        for name in subfolders:
            if (Path(folder) / name).is_symlink():
                log.warning("ignoring symlinked folder %s", Path(folder) / name)
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in names:
            if is_ignored_name(name):
                continue
            landing_file = classify(Path(folder) / name, landing_real)
            if landing_file is not None:
                found.append(landing_file)
    return sorted(found, key=lambda landing_file: landing_file.relative)


def _stat_key(path: Path) -> tuple[int, int] | None:
    """(size, mtime); None when the file has gone (moved away by its sender, say)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def settled_files(
    files: list[LandingFile], settle_seconds: float
) -> tuple[list[LandingFile], list[LandingFile]]:
    """Split files into (settled, still being written).

    A file is settled when its size and mtime are unchanged across a wait and its last
    change is at least `settle_seconds` old. We wait once, for the youngest file, rather
    than once per file.
    """
    readable = [f for f in files if f.real_path is not None]
    before = {f.relative: _stat_key(f.real_path) for f in readable}
    now_ns = time.time_ns()
    youngest_age = min(
        ((now_ns - key[1]) / 1e9 for key in before.values() if key), default=settle_seconds
    )
    wait = min(max(settle_seconds - youngest_age, 0.0), settle_seconds)
    if wait > 0:
        time.sleep(wait)
    settled, unsettled = [], []
    now_ns = time.time_ns()
    for landing_file in files:
        if landing_file.real_path is None:
            settled.append(landing_file)
            continue
        after = _stat_key(landing_file.real_path)
        if after is None or after != before[landing_file.relative]:
            unsettled.append(landing_file)
            continue
        if (now_ns - after[1]) / 1e9 >= settle_seconds or wait >= settle_seconds:
            settled.append(landing_file)
        else:
            unsettled.append(landing_file)
    return settled, unsettled


def fingerprint(path: Path) -> Fingerprint:
    """sha256 of the bytes, and the line count the CSV/JSONL line numbers are checked against.

    The status is taken from the open handle before the first byte is read, so a change
    made at any point after it shows in `unchanged_since`.
    """
    return open_for_fingerprint(path).read_all()


@dataclass
class OpenedForFingerprint:
    """A file opened, with its status taken, before anything reads it: the loader starts
    the file's load only after this, so that the status predates every byte it loads,
    and hashes it (read_all) on another thread meanwhile."""

    handle: object
    status: FileStatus
    taken_at_ns: int

    def read_all(self) -> Fingerprint:
        digest = hashlib.sha256()
        size = newlines = 0
        last_byte = b""
        with self.handle as handle:
            while chunk := handle.read(HASH_CHUNK_BYTES):
                digest.update(chunk)
                size += len(chunk)
                newlines += chunk.count(b"\n")
                last_byte = chunk[-1:]
        return Fingerprint(
            digest.hexdigest(), size, newlines, last_byte == b"\n", self.status, self.taken_at_ns
        )


def open_for_fingerprint(path: Path) -> OpenedForFingerprint:
    handle = open(path, "rb")  # noqa: SIM115 (closed by read_all, on whichever thread)
    try:
        taken_at_ns = time.time_ns()
        return OpenedForFingerprint(handle, FileStatus.of(os.fstat(handle.fileno())), taken_at_ns)
    except BaseException:
        handle.close()
        raise


def unchanged_since(path: Path, prints: Fingerprint) -> bool:
    """Are the file's bytes still those `prints` hashed?

    Reading a 3 GB file again to hash it costs as much as a fifth of its load, so the
    file's status stands in for the bytes when it can be trusted: unchanged device, inode,
    size, mtime and ctime mean no write happened, provided the last change was old enough
    when the fingerprint was taken for a later write to have moved the timestamps.
    Otherwise the bytes are hashed again.
    """
    now = current_status(path)  # None when moved or deleted mid-load
    if now is None or prints.status is None or now != prints.status:
        return False
    if status_proves_unchanged(prints.status, prints.taken_at_ns):
        return True
    try:
        return fingerprint(path).same_bytes(prints)
    except OSError:
        return False


def status_proves_unchanged(status: FileStatus, taken_at_ns: int) -> bool:
    """Whether a later, identical status proves the bytes have not changed since
    `taken_at_ns`: only when the last change was old enough then (see above)."""
    last_change_ns = max(status.mtime_ns, status.ctime_ns)
    return (taken_at_ns - last_change_ns) / 1e9 >= TIMESTAMP_TRUST_SECONDS


def current_status(path: Path) -> FileStatus | None:
    """The file's status now; None when it cannot be statted (gone, say)."""
    try:
        return FileStatus.of(os.stat(path))
    except OSError:
        return None
