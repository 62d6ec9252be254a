"""A throwaway MariaDB server (Debian's ``mariadb-server``).

Reusable by any test or benchmark::

    from tests.hosts.mariadb import Unavailable, mariadb

    with mariadb() as db:   # raises Unavailable when it cannot run
        MySQLdb.connect(host=db.host, port=db.port, user=db.user,
                        password=db.password, database=db.database)

Each server gets a private datadir under /tmp made by
``mariadb-install-db``, listens on 127.0.0.1 on a free port and on its
own ``--socket``, and has one password user (``db.user``) owning
``db.database``.  It is stopped by its PID (SIGTERM, then waited for) and
its directory removed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.hosts import Unavailable, free_port, spawn_logged, stop, tail

__all__ = ["MariaDB", "Unavailable", "mariadb"]

SERVER_CANDIDATES = ("/usr/sbin/mariadbd", "/usr/sbin/mysqld")
INSTALL_DB = "mariadb-install-db"
CLIENT = "mariadb"


@dataclass
class MariaDB:
    """A running server and how to reach it."""

    host: str
    port: int
    user: str
    password: str
    database: str
    #: the server's Unix socket (root can log in there without password).
    socket: Path
    pid: int

    def dsn(self, driver: str = "mysql+pymysql") -> str:
        """An SQLAlchemy-style URL (password included: keep it out of
        logs)."""
        return (
            f"{driver}://{self.user}:{self.password}@{self.host}:"
            f"{self.port}/{self.database}"
        )


def _find_server() -> str:
    for path in SERVER_CANDIDATES:
        if Path(path).exists():
            return path
    raise Unavailable(
        "mariadbd not found (apt-get install mariadb-server; "
        ".ci/host-deps.sh installs it)"
    )


def _run(cmd: list[str], timeout: float) -> None:
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unavailable(f"{cmd[0]} failed: {exc}") from exc
    if proc.returncode != 0:
        raise Unavailable(
            f"{' '.join(cmd[:2])} exited {proc.returncode}: "
            f"{(proc.stderr or proc.stdout).strip()[-600:]}"
        )


def _sql(socket: Path, statement: str) -> None:
    _run(
        [
            CLIENT,
            "--no-defaults",
            f"--socket={socket}",
            "--user=root",
            "-e",
            statement,
        ],
        30,
    )


@contextlib.contextmanager
def mariadb(timeout: float = 60) -> Iterator[MariaDB]:
    """Start a private MariaDB on 127.0.0.1; stop it by PID on exit.

    :param timeout: seconds to wait for it to accept connections.
    :returns: a context manager yielding the :class:`MariaDB`.
    :raises Unavailable: when MariaDB is not installed or cannot start.
    """
    server = _find_server()
    if shutil.which(INSTALL_DB) is None or shutil.which(CLIENT) is None:
        raise Unavailable(f"{INSTALL_DB} or {CLIENT} not found")
    root = Path(tempfile.mkdtemp(prefix="patchguard-mariadb-", dir="/tmp"))
    datadir = root / "data"
    socket = root / "mysqld.sock"
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    proc = None
    try:
        _run(
            [
                INSTALL_DB,
                "--no-defaults",
                f"--datadir={datadir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *as_root,
            ],
            120,
        )
        port = free_port()
        log = root / "server.log"
        proc = spawn_logged(
            [
                server,
                "--no-defaults",
                f"--datadir={datadir}",
                f"--socket={socket}",
                f"--port={port}",
                "--bind-address=127.0.0.1",
                f"--pid-file={root / 'mysqld.pid'}",
                f"--log-error={log}",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=16M",
                *as_root,
            ],
            dict(os.environ),
            root,
            root / "stdout.log",
        )
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise Unavailable(
                    f"mariadbd exited {proc.returncode}:\n{tail(log)}"
                )
            try:
                _sql(socket, "SELECT 1")
                break
            except Unavailable:
                if time.monotonic() > deadline:
                    raise Unavailable(
                        f"mariadbd not ready in {timeout}s:\n{tail(log)}"
                    ) from None
                time.sleep(0.2)
        user, password = "patchguard", secrets.token_hex(12)
        database = "patchguard"
        _sql(
            socket,
            f"CREATE DATABASE {database}; "
            f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{password}'; "
            f"GRANT ALL ON {database}.* TO '{user}'@'127.0.0.1';",
        )
        yield MariaDB(
            "127.0.0.1", port, user, password, database, socket, proc.pid
        )
    finally:
        if proc is not None:
            status = stop(proc, signal.SIGTERM, 60)
            assert status == 0, f"mariadbd exited {status}"
        shutil.rmtree(root, ignore_errors=True)
