"""Writing the files commands produce (exports, reports, pages): only to a new path or over a
regular file, atomically, with the permissions a colleague can read."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from disruptions.errors import UserError


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def new_file_mode() -> int:
    """What open() would give a new file under this process's umask (mkstemp gives 0600,
    which would hide a report or export from the colleagues it is for)."""
    return 0o666 & ~_umask()


def new_folder_mode() -> int:
    """What mkdir() would give a new folder under this process's umask (mkdtemp: 0700)."""
    return 0o777 & ~_umask()


def check_output_path(target: Path) -> None:
    """A command writes only to a new path or over a regular file, never through a symlink
    or over a folder, device or pipe (as root, replacing /dev/null would be harm), and
    refuses an impossible path in one line. Creates the missing parent folders."""
    try:
        existing = os.lstat(target)
    except FileNotFoundError:
        existing = None
    except OSError as error:  # e.g. a file used as a folder on the way
        raise UserError(f"{target}: cannot write there: {error.strerror}") from None
    if existing is not None and stat.S_ISLNK(existing.st_mode):
        raise UserError(f"{target}: is a symbolic link; give a regular file or a new path")
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        raise UserError(
            f"{target}: is not a regular file (a folder, device or pipe); give a regular file "
            "or a new path"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"{target.parent}: cannot create the folder: {error.strerror}") from None


def write_atomically(target: Path, write) -> None:
    """Write beside the target and swap it in, so a reader never sees half a file.
    The target must pass `check_output_path`."""
    check_output_path(target)
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as error:
        raise UserError(f"{target}: cannot write there: {error.strerror or error}") from None
    os.close(handle)
    temp_path = Path(temp_name)
    try:
        write(temp_path)
        os.chmod(temp_path, new_file_mode())
        os.replace(temp_path, target)
    except OSError as error:
        raise UserError(f"{target}: cannot write: {error.strerror or error}") from None
    finally:
        temp_path.unlink(missing_ok=True)
