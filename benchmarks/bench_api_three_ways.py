"""One read API, three servers: uWSGI, eventlet.wsgi, a threaded server.

ceilometer's spec asked to compare the three ways of serving its API,
paying attention to the storage layer; the claim to check is that with a
properly configured server and storage, removing eventlet costs little.
This benchmark serves :mod:`_api_app` (20 rows per request from a real
database) with

* ``uwsgi``: native mode, 2 processes x 4 threads;
* ``eventlet.wsgi``: eventlet mode, one process, a greenthread per request;
* ``werkzeug``: native mode, one process, ``threaded=True``;

and loads each from a client on loopback at concurrency 1, 10 and 50
(a fresh connection per request), interleaving the servers at each
concurrency after an unmeasured warm-up that fills each server's
connection pool, then prints requests/s and p50/p99 latency as one table.

The database is a private MariaDB (Debian's ``mariadbd``, through
PyMySQL); where it cannot start, the same table in SQLite, and the output
says which ran.  ``--smoke`` runs one short round (about a second per
server and concurrency) for ``make test``; ``make bench`` runs the full
one (4 s each).  Nothing is asserted about speed here.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
# The one MariaDB starter the tests use too (private datadir, 127.0.0.1).
sys.path.insert(0, str(ROOT))

from tests.hosts import Unavailable  # noqa: E402
from tests.hosts.mariadb import mariadb  # noqa: E402

CONCURRENCY = (1, 10, 50)
SERVERS = ("uwsgi", "eventlet.wsgi", "werkzeug")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env(mode: str, db: str) -> dict[str, str]:
    """The servers' environment: one mode, the database, the source."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PATCHGUARD_", "OS_", "PYTHONPATH"))
    }
    env.update(
        PATCHGUARD_MODE=mode,
        BENCH_DB=db,
        EVENTLET_TESTS="1",
        PYTHONPATH=str(ROOT),
    )
    return env


def server_command(kind: str, port: int) -> list[str]:
    """The command line that serves the app with ``kind`` on ``port``."""
    app = str(HERE / "_api_app.py")
    if kind == "uwsgi":
        uwsgi = Path(sys.executable).parent / "uwsgi"
        binary = str(uwsgi) if uwsgi.exists() else shutil.which("uwsgi")
        if binary is None:
            raise RuntimeError("uwsgi is not installed (pip install .[hosts])")
        return [
            binary,
            "--http-socket",
            f"127.0.0.1:{port}",
            "--master",
            "--processes",
            "2",
            "--threads",
            "4",
            "--enable-threads",
            "--die-on-term",
            "--need-app",
            "--disable-logging",
            "--listen",
            "128",
            "--wsgi-file",
            app,
            "--pythonpath",
            str(ROOT),
            "--pythonpath",
            str(HERE),
        ]
    flavour = "eventlet" if kind == "eventlet.wsgi" else "threaded"
    return [sys.executable, app, flavour, str(port)]


def get(port: int, path: str, timeout: float = 10) -> tuple[int, bytes]:
    """One GET on a fresh connection; return status and body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@contextlib.contextmanager
def serving(kind: str, db: str, workdir: Path) -> Iterator[dict[str, Any]]:
    """Start one server, wait for ``/state``; stop it by PID on exit."""
    mode = "eventlet" if kind == "eventlet.wsgi" else "native"
    port = free_port()
    log_path = workdir / f"{kind}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            server_command(kind, port),
            env=child_env(mode, db),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        state = None
        while state is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{kind} did not start:\n{log_path.read_text()[-1500:]}"
                )
            with contextlib.suppress(OSError, ValueError):
                status, body = get(port, "/state", 2)
                if status == 200:
                    state = json.loads(body)
            time.sleep(0.1)
        if state["mode"] != mode:
            raise RuntimeError(f"{kind} runs {state['mode']}, not {mode}")
        yield {"kind": kind, "mode": mode, "port": port, "log": log_path}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def load(port: int, concurrency: int, seconds: float) -> dict[str, float]:
    """Keep ``concurrency`` requests in flight for ``seconds``.

    :returns: ``{"rps", "p50", "p99", "requests", "errors"}``; latencies
        in milliseconds.
    """
    stop = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency

    def client(slot: int) -> None:
        i = slot
        mine = latencies[slot]
        while time.monotonic() < stop:
            path = f"/v2/meters/res-{i % 50:03d}"
            i += concurrency
            start = time.perf_counter()
            try:
                status, body = get(port, path)
                ok = status == 200 and body.startswith(b"[[")
            except OSError:
                ok = False
            if ok:
                mine.append(time.perf_counter() - start)
            else:
                errors[slot] += 1

    started = time.monotonic()
    workers = [
        threading.Thread(target=client, args=(n,)) for n in range(concurrency)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.monotonic() - started
    flat = sorted(x for group in latencies for x in group)
    if not flat:
        return {
            "rps": 0.0,
            "p50": 0.0,
            "p99": 0.0,
            "requests": 0,
            "errors": sum(errors),
        }
    return {
        "rps": len(flat) / elapsed,
        "p50": statistics.median(flat) * 1000,
        "p99": flat[min(len(flat) - 1, int(len(flat) * 0.99))] * 1000,
        "requests": len(flat),
        "errors": sum(errors),
    }


def machine() -> str:
    """One line describing the machine the figures come from."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load1 = os.getloadavg()[0]
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs "
        f"({model}), load average {load1:.2f} at start, Python "
        f"{platform.python_version()}"
    )


@contextlib.contextmanager
def database(workdir: Path) -> Iterator[tuple[str, str]]:
    """MariaDB if it starts, else SQLite; yield (url, description)."""
    import _api_db

    try:
        with mariadb() as db:
            url = (
                f"mysql://{db.user}:{db.password}@{db.host}:{db.port}/"
                f"{db.database}"
            )
            _api_db.populate(url)
            conn, _ = _api_db.connect(url)
            try:
                cursor = conn.cursor()
                cursor.execute("SELECT VERSION()")
                version = cursor.fetchone()[0]
            finally:
                conn.close()
            yield url, f"MariaDB {version} via PyMySQL (127.0.0.1)"
            return
    except Unavailable as exc:
        reason = str(exc).splitlines()[0]
    url = f"sqlite:///{workdir / 'samples.db'}"
    _api_db.populate(url)
    yield url, f"SQLite {sqlite_version()} (MariaDB unavailable: {reason})"


def sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def main(argv: list[str] | None = None) -> int:
    """Run every server at every concurrency; print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    seconds = args.seconds or (1.0 if args.smoke else 4.0)
    warmup = 0.5 if args.smoke else 2.0
    workdir = Path(tempfile.mkdtemp(prefix="bench-api-"))
    results: dict[tuple[str, int], dict[str, float]] = {}
    try:
        with (
            database(workdir) as (url, described),
            contextlib.ExitStack() as stack,
        ):
            servers = [
                stack.enter_context(serving(kind, url, workdir))
                for kind in SERVERS
            ]
            # Warm-up, not measured: fill each server's connection pool
            # (a new MariaDB connection costs ~80 ms here, and 50 at once
            # take seconds in every mode) and its code paths.
            for server in servers:
                load(server["port"], max(CONCURRENCY), warmup)
            for rnd, conc in enumerate(CONCURRENCY):
                # Interleaved: a different server goes first each round.
                order = servers[rnd % 3 :] + servers[: rnd % 3]
                for server in order:
                    results[(server["kind"], conc)] = load(
                        server["port"], conc, seconds
                    )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(
            json.dumps(
                {
                    "database": described,
                    "results": [
                        {"server": k, "concurrency": c, **v}
                        for (k, c), v in results.items()
                    ],
                }
            )
        )
        return 0
    print(f"### One API served three ways ({seconds:g} s per cell)\n")
    print(f"database: {described}")
    print(f"machine: {machine()}")
    print(
        "client: Python threads on the same machine, new connection per "
        "request\n"
    )
    print(
        "| server | mode | concurrency | req/s | p50 (ms) | p99 (ms) "
        "| errors |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for conc in CONCURRENCY:
        for kind in SERVERS:
            r = results[(kind, conc)]
            mode = "eventlet" if kind == "eventlet.wsgi" else "native"
            print(
                f"| {kind} | {mode} | {conc} | {r['rps']:.0f} "
                f"| {r['p50']:.1f} | {r['p99']:.1f} | {r['errors']} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
