"""A throwaway PostgreSQL cluster from Debian's server binaries, on a free loopback port,
for the tests that need the real server (Airflow's metadata, the postgres engine)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
MISSING = "PostgreSQL server binaries missing: make system-deps"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; as root, run it as the `postgres` system user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def postgres_cluster(superuser: str) -> Iterator[int]:
    """Start a cluster whose superuser is `superuser` (trust auth on loopback); yield its
    port; stop it and remove its files afterwards."""
    bin_dir = Path(PG_BIN[-1])
    root = Path(tempfile.mkdtemp(prefix="disruptions-pg-"))
    data = root / "data"
    port = free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    try:
        subprocess.run(
            as_postgres_user(
                [str(bin_dir / "initdb"), "-D", str(data), "-U", superuser, "--auth=trust"]
            ),
            check=True,
            capture_output=True,
        )
        subprocess.run(
            as_postgres_user(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(root / "postgres.log"),
                    "-w",
                    "-o",
                    f"-c listen_addresses=127.0.0.1 -c port={port} "
                    f"-c unix_socket_directories={root} -c fsync=off",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        try:
            yield port
        finally:
            subprocess.run(
                as_postgres_user(
                    [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
                ),
                check=False,
                capture_output=True,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
