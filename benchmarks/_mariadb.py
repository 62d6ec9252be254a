"""A private MariaDB server for the benchmarks (minimal, swappable).

Stand-in until ``tests/hosts/mariadb.py`` lands: the merger can replace
:func:`mariadb_server` with that fixture's starter; nothing else in
``benchmarks/`` knows how the server is started.

The server is Debian's ``mariadbd`` on 127.0.0.1 (a free port) with a
throw-away datadir under /tmp, no grant tables (so no password exists to
leak), and is stopped by PID and waited for.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass


class MariaDBUnavailable(Exception):
    """MariaDB cannot be installed or started here (the caller falls
    back to SQLite and says so)."""


@dataclass
class MariaDB:
    """A running private server."""

    host: str
    port: int
    pid: int
    version: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _binary(*names: str) -> str:
    for name in names:
        for folder in ("/usr/sbin", "/usr/bin"):
            path = os.path.join(folder, name)
            if os.access(path, os.X_OK):
                return path
        found = shutil.which(name)
        if found:
            return found
    raise MariaDBUnavailable(
        f"none of {', '.join(names)} found (Debian: apt-get install "
        f"mariadb-server; .ci/host-deps.sh does it)"
    )


@contextlib.contextmanager
def mariadb_server(timeout: float = 60) -> Iterator[MariaDB]:
    """Start a private ``mariadbd``; stop it by PID on exit.

    :param timeout: seconds to wait for it to accept connections.
    :raises MariaDBUnavailable: when it is not installed or does not start.
    """
    server = _binary("mariadbd", "mysqld")
    install = _binary("mariadb-install-db", "mysql_install_db")
    root = tempfile.mkdtemp(prefix="patchguard-mariadb-")
    datadir = os.path.join(root, "data")
    log_path = os.path.join(root, "server.log")
    user = ["--user=root"] if os.geteuid() == 0 else []
    try:
        init = subprocess.run(
            [
                install,
                "--no-defaults",
                f"--datadir={datadir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *user,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if init.returncode != 0:
            raise MariaDBUnavailable(
                f"mariadb-install-db failed: {init.stderr.strip()[-500:]}"
            )
        port = _free_port()
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [
                    server,
                    "--no-defaults",
                    f"--datadir={datadir}",
                    f"--socket={root}/mysqld.sock",
                    f"--pid-file={root}/mysqld.pid",
                    f"--port={port}",
                    "--bind-address=127.0.0.1",
                    "--skip-grant-tables",
                    "--skip-name-resolve",
                    "--max-connections=500",
                    "--innodb-buffer-pool-size=64M",
                    *user,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            _wait_ready(proc, port, timeout, log_path)
            yield MariaDB("127.0.0.1", port, proc.pid, _version(server))
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(
    proc: subprocess.Popen[bytes], port: int, timeout: float, log: str
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            with open(log, errors="replace") as f:
                tail = f.read()[-800:]
            raise MariaDBUnavailable(f"mariadbd exited early:\n{tail}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise MariaDBUnavailable(f"mariadbd did not listen within {timeout}s")


def _version(server: str) -> str:
    out = subprocess.run(
        [server, "--version"], capture_output=True, text=True, timeout=30
    ).stdout.strip()
    return out.split(" Ver ")[-1].split(" for ")[0] if out else "unknown"
