"""patchguard under the real servers it is meant for.

Apache mod_wsgi (prefork and event MPMs, daemon and embedded mode), uWSGI,
a RabbitMQ broker and the debugpy launcher are installed (or found),
started on 127.0.0.1 by these tests, and stopped by PID.  Where one truly
cannot be installed the test is skipped with the reason.

Each WSGI server serves ``tests/hosts/service_app.py``, whose first line
is ``import patchguard.bootstrap``.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, clean_env
from tests.hosts import (
    HERE,
    Server,
    Unavailable,
    cached_venv,
    free_port,
    http_json,
    install_requires,
    load,
    tail,
)
from tests.hosts.apache import mod_wsgi_express as apache
from tests.hosts.apache import modwsgi_venv, readable_source
from tests.hosts.rabbitmq import Broker, rabbitmq
from tests.hosts.uwsgi_host import uwsgi_server

pytestmark = pytest.mark.hosts

REQUESTS = 1000
CONCURRENCY = 20
#: what a crash at interpreter exit looks like in a server's log.
CRASH = re.compile(
    r"segmentation fault|SIGABRT|Aborted|core dumped|Fatal Python error|"
    r"exit signal|Exception ignored|greenlet\.error|greenlet::|Traceback",
    re.IGNORECASE,
)


def _skip(exc: Unavailable) -> None:
    pytest.skip(f"cannot run: {exc}")


def _warning_names(state: dict[str, Any]) -> list[str]:
    return [f["category"] for f in state["findings"]]


def _check_state(
    server: Server, host: str, mode: str | None
) -> dict[str, Any]:
    state = server.state
    assert state["wsgi_host"] == host
    if mode is None:
        assert state["mode"] == "native", state
        assert state["decided_by"] == f"wsgi:{host}"
        assert state["patched"] == []
        assert "WSGIHostWarning" not in _warning_names(state)
    else:
        assert state["mode"] == "eventlet", state
        assert state["decided_by"] == "PATCHGUARD_MODE"
        assert "thread" in state["patched"]
        assert "WSGIHostWarning" in _warning_names(state)
        logged = server.log.read_text(errors="replace")
        assert "WSGIHostWarning" in logged, tail(server.log)
    return state


def _check_load(server: Server, mode: str) -> None:
    result = load(server.port, mode, REQUESTS, CONCURRENCY)
    server.pids.update(result.pids)
    print(
        f"{REQUESTS} requests at concurrency {CONCURRENCY}: ok={result.ok} "
        f"errors={result.errors} in {result.seconds}s, "
        f"{len(result.pids)} process(es)"
    )
    assert result.errors == 0, result.samples
    assert result.ok == REQUESTS


def _idle_ticks(server: Server, idle: float) -> dict[str, Any]:
    """Leave the server idle for ``idle`` s; count each ticker's ticks."""
    first = http_json(server.port, "/ticks")
    server.pids.add(first["pid"])
    time.sleep(idle)
    # Ask the same process again (another child would have other ticks).
    for _ in range(50):
        second = http_json(server.port, "/ticks")
        server.pids.add(second["pid"])
        if second["pid"] == first["pid"]:
            break
    else:
        pytest.fail("could not reach the same server process twice")
    start, end = first["now"], second["now"]
    counts = {}
    for kind in ("native", "thread"):
        stamps = [t for t in second[kind] if start <= t <= end]
        edges = [start, *stamps, end]
        counts[kind] = {
            "ticks": len(stamps),
            "max_gap": round(
                max(b - a for a, b in zip(edges, edges[1:], strict=False)), 2
            ),
        }
    print(f"ticks while idle {end - start:.1f}s: {counts}")
    return counts


# -- Apache mod_wsgi ----------------------------------------------------------


@pytest.fixture(scope="module")
def modwsgi() -> Iterator[tuple[Path, Path]]:
    """The cached mod_wsgi venv and a www-data-readable source copy."""
    try:
        venv = modwsgi_venv()
        src = readable_source()
    except Unavailable as exc:
        _skip(exc)
    yield venv, src
    shutil.rmtree(src, ignore_errors=True)


@pytest.mark.parametrize("mode", [None, "eventlet"], ids=["auto", "eventlet"])
@pytest.mark.parametrize("embedded", [False, True], ids=["daemon", "embedded"])
@pytest.mark.parametrize("mpm", ["prefork", "event"])
def test_mod_wsgi(
    modwsgi: tuple[Path, Path], mpm: str, embedded: bool, mode: str | None
) -> None:
    """mod_wsgi: auto native, forced eventlet warns; 1,000 requests, 0 err."""
    venv, src = modwsgi
    with apache(
        venv, src, mpm=mpm, embedded=embedded, mode=mode, tickers=True
    ) as server:
        state = _check_state(server, "mod_wsgi", mode)
        assert (state["process_group"] == "") is embedded, state
        _check_load(server, mode or "native")
        ticks = _idle_ticks(server, 2.5)
    assert ticks["native"]["ticks"] >= 6, ticks
    assert ticks["native"]["max_gap"] < 1.0, ticks
    if mode == "eventlet":
        # The hub's thread idles in Apache's C code: green work starves.
        assert ticks["thread"]["ticks"] <= 1, ticks
        assert ticks["thread"]["max_gap"] >= 2.0, ticks
    else:
        assert ticks["thread"]["ticks"] >= 6, ticks
    assert server.exit_status == 0, server.log_text[-3000:]
    assert f"[mpm_{mpm}:notice]" in server.log_text
    # Nothing crashed, in the app or at shutdown, native threads included.
    assert CRASH.findall(server.log_text) == [], server.log_text[-3000:]


# -- uWSGI --------------------------------------------------------------------


@pytest.mark.parametrize("mode", [None, "eventlet"], ids=["auto", "eventlet"])
@pytest.mark.parametrize("threads", [None, 4], ids=["processes", "threads4"])
def test_uwsgi(threads: int | None, mode: str | None) -> None:
    """uWSGI: auto native + clean exit, forced eventlet warns; 0 errors."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(uwsgi_server(threads, mode))
        except Unavailable as exc:
            _skip(exc)
        _check_state(server, "uwsgi", mode)
        _check_load(server, mode or "native")
    log = server.log_text
    crashes = sorted({m.lower() for m in CRASH.findall(log)})
    print(f"exit status {server.exit_status}, crash markers {crashes}")
    if mode is None:
        assert server.exit_status == 0, log[-3000:]
        assert crashes == [], log[-3000:]
        assert "goodbye to uWSGI" in log


# -- RabbitMQ -----------------------------------------------------------------

HOLD = 60.0


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    """A RabbitMQ broker on 127.0.0.1 for this module."""
    try:
        import amqp  # noqa: F401
    except ImportError:
        pytest.skip("cannot run: the amqp client is not installed")
    with contextlib.ExitStack() as stack:
        try:
            running = stack.enter_context(rabbitmq())
        except Unavailable as exc:
            _skip(exc)
        yield running


def _heartbeat_run(port: int, variant: str) -> dict[str, Any]:
    proc = subprocess.run(
        [
            sys.executable,
            str(HERE / "amqp_heartbeat.py"),
            variant,
            str(port),
            str(HOLD),
        ],
        env=clean_env({"PATCHGUARD_MODE": "eventlet"}),
        capture_output=True,
        text=True,
        timeout=HOLD + 60,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    return result


def _missed_heartbeats(broker: Broker, client_port: int) -> bool:
    """Did the broker log 'missed heartbeats' for this client's socket?"""
    text = broker.log.read_text(errors="replace")
    conn = re.search(
        rf"accepting AMQP connection (<[\d.]+>) \(127\.0\.0\.1:"
        rf"{client_port} ->",
        text,
    )
    assert conn, f"broker never saw client port {client_port}"
    return (
        re.search(
            rf"{re.escape(conn.group(1))} missed heartbeats from client", text
        )
        is not None
    )


@pytest.mark.slow
def test_rabbitmq_heartbeats_from_native_thread(broker: Broker) -> None:
    """Hub blocked 60 s: native heartbeats keep AMQP alive, green ones not."""
    with ThreadPoolExecutor(2) as pool:
        native_run = pool.submit(_heartbeat_run, broker.port, "native")
        green_run = pool.submit(_heartbeat_run, broker.port, "green")
        native, green = native_run.result(), green_run.result()
    print(f"native: {native}\ngreen: {green}")

    assert native["mode"] == green["mode"] == "eventlet"
    assert native["negotiated_heartbeat"] == 2
    assert native["held_seconds"] >= HOLD
    assert native["sender_errors"] == []
    assert native["beats_while_blocked"] >= HOLD  # 0.5 s cadence: ~120
    assert native["max_gap"] < 1.5
    assert native["error"] is None
    assert native["round_trip"] == f"round trip after {HOLD:.0f} s"
    assert not _missed_heartbeats(broker, native["client_port"])

    assert green["beats_while_blocked"] == 0
    assert green["max_gap"] >= HOLD
    assert green["round_trip"] is None
    assert green["error"] is not None
    assert _missed_heartbeats(broker, green["client_port"])


# -- debugpy ------------------------------------------------------------------


def _python(minor: str) -> str:
    """An interpreter of 3.<minor> with debugpy and patchguard's deps.

    patchguard itself comes from the checkout (``clean_env`` puts it on
    ``PYTHONPATH``): this run's venv, the matrix's ``.venv-3.x``, or a
    cached venv built from the pyenv interpreter.
    """
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == minor:
        return sys.executable
    matrix = ROOT / f".venv-{minor}" / "bin" / "python"
    if matrix.exists():
        return str(matrix)
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = sorted(glob.glob(f"{root}/versions/{minor}.*/bin/python{minor}"))
    found = found or [p for p in [shutil.which(f"python{minor}")] if p]
    if not found:
        raise Unavailable(f"no Python {minor} on this machine")
    venv = cached_venv(
        f"py{minor.replace('.', '')}",
        found[-1],
        [*install_requires(), "debugpy"],
    )
    return str(venv / "bin" / "python")


@pytest.mark.parametrize("minor", ["3.11", "3.13"])
def test_debugpy_launch(minor: str, tmp_path: Path) -> None:
    """Under debugpy auto is native: the service runs, no greenlet.error."""
    try:
        python = _python(minor)
    except Unavailable as exc:
        _skip(exc)
    port = free_port()
    start = time.monotonic()
    proc = subprocess.run(
        [
            python,
            "-m",
            "debugpy",
            "--listen",
            f"127.0.0.1:{port}",
            str(HERE / "debug_service.py"),
        ],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    took = time.monotonic() - start
    print(f"python {minor} under debugpy: rc={proc.returncode} {took:.1f}s")
    assert proc.returncode == 0, proc.stderr
    assert "greenlet.error" not in proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    state = json.loads(proc.stdout.splitlines()[-1])
    assert state["python"].startswith(minor)
    assert state["mode"] == "native"
    assert state["decided_by"] == "debugger:debugpy"
    assert state["debugger"] == "debugpy"
    assert state["results"] == ["from native thread", "from worker"]
    assert "native thread running" in proc.stderr
    assert "worker running" in proc.stderr
