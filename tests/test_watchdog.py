"""The watchdog (issue 13): hub stalls and stuck pool tasks, reported live.

Every scenario runs in its own interpreter (``tests/isolated/watchdog_*``)
against real components started here on 127.0.0.1: a private MariaDB for
the C-driver stall, Apache mod_wsgi for the host case.
"""

from __future__ import annotations

import os
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import pytest

from patchguard import ConfigError
from patchguard._decision import policy
from tests.helpers import Result, line_of, run_isolated
from tests.hosts import Unavailable, http_json

pytest_plugins = ["pytester"]

EVENTLET = {"PATCHGUARD_MODE": "eventlet"}
STALL_HEAD = "patchguard watchdog: eventlet hub stalled"


def _run(script: str, *args: str, timeout: float = 60, **env: str) -> Result:
    result = run_isolated(script, *args, env=env, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _run_tasks(script: str, mode: str) -> dict[str, Any]:
    """Run a pool scenario with a 1 s task threshold; return its JSON."""
    data: dict[str, Any] = _run(
        script,
        PATCHGUARD_MODE=mode,
        PATCHGUARD_WATCHDOG="0.5",
        PATCHGUARD_WATCHDOG_TASK="1",
    ).json()
    return data


def _green_env(hub: str, threshold: str) -> dict[str, str]:
    """Eventlet mode on the ``hub`` ("default"/"asyncio"), watchdog on."""
    env = {**EVENTLET, "PATCHGUARD_WATCHDOG": threshold}
    if hub == "asyncio":
        env["EVENTLET_HUB"] = "asyncio"
    return env


def _stalls(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in data["reports"] if r["kind"] == "stall"]


def _where(script: str, marker: str) -> str:
    path, number = line_of(script, marker).rsplit(":", 1)
    return f"{path}:{number}"


# -- configuration -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.1", 0.1),
        ("2", 2.0),
        (" 1.5 ", 1.5),
        ("0.01", 0.01),
        ("86400", 86400.0),
        ("off", None),
        ("", None),
    ],
)
def test_parse_seconds_accepts(value: str, expected: float | None) -> None:
    """PATCHGUARD_WATCHDOG takes positive seconds, or off/empty."""
    assert policy.parse_seconds("X", value, off=True) == expected


@pytest.mark.parametrize(
    "value",
    [
        "abc",
        "0",
        "-1",
        "nan",
        "inf",
        "1e999",
        "0.1s",
        "x" * 200,
        "1e-9",  # a busy loop, not a threshold
        "0.009",
        "1e300",  # never fires, and no timer that long reaches the hub
        "86401",
    ],
)
def test_parse_seconds_refuses(value: str) -> None:
    """A bad duration names the variable, the (shortened) value and what
    is accepted."""
    with pytest.raises(ConfigError) as info:
        policy.parse_seconds("PATCHGUARD_WATCHDOG", value, off=True)
    text = str(info.value)
    assert text.startswith("PATCHGUARD_WATCHDOG=")
    assert "positive number of seconds from 0.01 to 86400" in text
    assert len(text) < 300


def test_watchdog_task_default() -> None:
    """PATCHGUARD_WATCHDOG_TASK defaults to 60 s; the watchdog is off
    unless PATCHGUARD_WATCHDOG is set."""
    decision = policy.decide({"PATCHGUARD_MODE": "native"})
    assert decision.watchdog is None
    assert decision.watchdog_task == 60.0
    decision = policy.decide(
        {
            "PATCHGUARD_MODE": "native",
            "PATCHGUARD_WATCHDOG": "0.5",
            "PATCHGUARD_WATCHDOG_TASK": "3",
        }
    )
    assert (decision.watchdog, decision.watchdog_task) == (0.5, 3.0)


@pytest.mark.isolated
@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("PATCHGUARD_WATCHDOG", "soon"),
        ("PATCHGUARD_WATCHDOG", "-0.1"),
        ("PATCHGUARD_WATCHDOG_TASK", "off"),
        ("PATCHGUARD_WATCHDOG_TASK", "0"),
    ],
)
def test_bad_env_refused_before_patching(var: str, value: str) -> None:
    """An invalid watchdog variable stops the bootstrap with ConfigError
    naming it, before eventlet is even imported."""
    env = {**EVENTLET, "PATCHGUARD_WATCHDOG": "0.1", var: value}
    data = _run("watchdog_bad_env.py", **env).json()
    assert data["type"] == "ConfigError"
    assert data["error"].startswith(f"{var}={value!r} is not valid")
    assert data["patched"] == []
    assert data["eventlet"] is False
    assert data["mode"] == "unset"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": "fast"},
        {"threshold": -1},
        {"task_threshold": 0},
        {"threshold": 1e-9},
        {"threshold": 1e300},
        {"task_threshold": 86401},
    ],
)
def test_start_refuses_bad_arguments(kwargs: dict[str, Any]) -> None:
    """start() validates its arguments (the same bounds as the variables:
    0.01 to 86400 s) and starts nothing."""
    from patchguard import watchdog

    name = next(iter(kwargs))
    with pytest.raises(ConfigError, match=f"^{name}="):
        watchdog.start(**kwargs)
    assert watchdog.running() is None


@pytest.mark.parametrize("threshold", [1e-9, 0.0, float("nan"), 1e300])
def test_no_stall_refuses_out_of_range_thresholds(threshold: float) -> None:
    """no_stall (and so the pytest marker) takes the same bounds."""
    from patchguard import watchdog

    with pytest.raises(ConfigError, match="^threshold="):
        with watchdog.no_stall(threshold):
            pass
    assert watchdog.running() is None


# -- hub stalls (eventlet mode) ----------------------------------------------


@pytest.mark.isolated
@pytest.mark.slow
def test_best_practices_deadlock_reported() -> None:
    """monkey_patch(thread=False) + a lock held across time.sleep: the
    stall report names the waiting line and the line holding the lock,
    before the scenario's own 5 s timeout."""
    result = run_isolated(
        "watchdog_deadlock.py",
        env={
            **EVENTLET,
            "PATCHGUARD_PATCH": "all,-thread",
            "PATCHGUARD_WATCHDOG": "0.2",
        },
        timeout=30,
    )
    err = result.stderr
    assert "Timeout (0:00:05)!" in err, err[-2000:]
    report = err[err.index(STALL_HEAD) : err.index("Timeout (0:00:05)!")]
    waits = line_of("watchdog_deadlock.py", "WAITS-FOR-LOCK")
    holds = line_of("watchdog_deadlock.py", "HOLDS-LOCK")
    path, waits_line = waits.rsplit(":", 1)
    assert f'File "{path}", line {waits_line}, in worker' in report, report
    assert f"{holds} in worker" in report, report
    assert "GreenThread running __main__.worker()" in report
    spawn = line_of("watchdog_deadlock.py", "# SPAWN")
    assert f"spawned at: {spawn}" in report, report
    assert report.count(STALL_HEAD) == 1, report


@pytest.mark.isolated
@pytest.mark.parametrize("hub", ["default", "asyncio"])
def test_cpu_loop_reported_once(hub: str) -> None:
    """A pure-Python CPU loop in a greenthread: one stall report, stack
    ending at the loop, on the default and the asyncio hub; the idle hub
    after it adds nothing."""
    env = _green_env(hub, "0.2")
    data = _run("watchdog_cpu.py", **env).json()
    stalls = _stalls(data)
    assert len(stalls) == 1, data
    assert data["counts"]["stall_reports"] == 1
    stall = stalls[0]
    loop = line_of("watchdog_cpu.py", "CPU-LOOP")
    assert stall["stack"][-1] == f"{loop} in spin", stall
    assert stall["running"] == "GreenThread running __main__.spin()"
    assert stall["spawned_at"] == line_of("watchdog_cpu.py", "# SPAWN")
    assert stall["duration"] >= 0.5, stall


@pytest.fixture(scope="module")
def mariadb_server() -> Iterator[Any]:
    """A private MariaDB on 127.0.0.1 (skipped with the reason if absent)."""
    from tests.hosts.mariadb import mariadb

    try:
        with mariadb() as db:
            yield db
    except Unavailable as exc:
        pytest.skip(f"cannot run MariaDB: {exc}")


@pytest.mark.hosts
@pytest.mark.parametrize("driver", ["MySQLdb", "pymysql"])
def test_mysql_driver(mariadb_server: Any, driver: str) -> None:
    """SELECT SLEEP(1) through mysqlclient blocks the hub (report whose
    stack names MySQLdb); through PyMySQL it does not (no report).

    The threshold is 0.5 s: PyMySQL's connect really blocks the hub for a
    moment (ssl.create_default_context loads the CA bundle, getaddrinfo
    is native), up to 0.2 s on a loaded machine, and that is not the query
    under test."""
    pytest.importorskip(driver, reason=f"{driver} is not installed")
    db = mariadb_server
    data = _run(
        "watchdog_mysql.py",
        driver,
        **EVENTLET,
        PATCHGUARD_WATCHDOG="0.5",
        WD_DB_HOST=db.host,
        WD_DB_PORT=str(db.port),
        WD_DB_USER=db.user,
        WD_DB_PASSWORD=db.password,
        WD_DB_NAME=db.database,
    ).json()
    assert data["rows"] == [[0]]
    stalls = _stalls(data)
    if driver == "pymysql":
        assert stalls == [], stalls
        return
    assert len(stalls) == 1, data
    stack = stalls[0]["stack"]
    assert any("/MySQLdb/" in frame for frame in stack), stack
    query = line_of("watchdog_mysql.py", "# QUERY")
    assert f"{query} in query" in stack, stack


@pytest.mark.isolated
@pytest.mark.parametrize("hub", ["default", "asyncio"])
def test_healthy_echo_server_and_idle_hub(hub: str) -> None:
    """6,000 green echo round trips then an idle second: no report (at
    0.2 s: a loaded CI machine can deschedule a process for 0.1 s)."""
    env = _green_env(hub, "0.2")
    result = _run("watchdog_echo.py", **env)
    data = result.json()
    assert data["ok"] == 6000
    assert data["reports"] == [], data
    assert "patchguard watchdog" not in result.stderr


# -- stuck tasks and saturation (both modes) ---------------------------------


@pytest.mark.isolated
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["native", "eventlet"])
def test_stuck_task_and_saturation(mode: str) -> None:
    """time.sleep(5) in a concurrent.futures and a futurist pool with
    PATCHGUARD_WATCHDOG_TASK=1: one stuck_task per pool with the sleeping
    line on top, one saturated per pool (two tasks queued behind)."""
    pytest.importorskip("futurist")
    data = _run_tasks("watchdog_pool.py", mode)
    assert data["mode"] == mode
    stuck = [r for r in data["reports"] if r["kind"] == "stuck_task"]
    full = [r for r in data["reports"] if r["kind"] == "saturated"]
    assert len(stuck) == 2, data
    assert len(full) == 2, data
    slow = line_of("watchdog_pool.py", "SLOW-TASK")
    pools = set()
    for report in stuck:
        assert report["running"] == "__main__.slow()"
        # In eventlet mode the green sleep sits below the task's line.
        assert f"{slow} in slow" in report["stack"], report
        if mode == "native":
            assert report["stack"][-1] == f"{slow} in slow", report
        pools.add(report["pool"].split(" at ")[0])
    assert pools == {
        "concurrent.futures.thread.ThreadPoolExecutor 'wd-cf'",
        "futurist._futures.ThreadPoolExecutor",
    }
    for report in full:
        assert "all 1 workers busy" in report["detail"]
    assert data["counts"]["stuck_tasks"] == 2
    assert data["counts"]["saturated"] == 2
    assert _stalls(data) == []


# -- report building ---------------------------------------------------------


def test_capture_reads_no_file_and_format_shows_the_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Capturing a stack at detection time opens no file: every read
    releases the GIL, and a busy hub thread kept it 5 ms each time (a 40
    frame stack took 0.35 s, so a 0.1 s no_stall test could end before
    its stall was handed over).  The source lines appear when the report
    is formatted."""
    import linecache
    import sys

    from patchguard._watchdog import report

    real = linecache.getline
    monkeypatch.setattr(linecache, "getline", _no_file_read)
    stack = report.capture(sys._getframe())  # MARK-CAPTURE
    monkeypatch.setattr(linecache, "getline", real)
    assert stack[-1][:3] == (
        __file__,
        int(line_of_here("MARK-CAPTURE")),
        "test_capture_reads_no_file_and_format_shows_the_source",
    )
    text = report.format_stack(stack)
    assert "stack = report.capture(sys._getframe())  # MARK-CAPTURE" in text


def _no_file_read(*args: object, **kwargs: object) -> str:
    raise AssertionError("capture() read a source file")


def line_of_here(marker: str) -> str:
    """The line number of ``marker`` in this file."""
    with open(__file__, encoding="utf-8") as source:
        for number, text in enumerate(source, 1):
            if marker in text and "line_of_here" not in text:
                return str(number)
    raise AssertionError(marker)


# -- tests: no_stall and the marker ------------------------------------------


@pytest.mark.isolated
def test_no_stall_context_manager() -> None:
    """no_stall fails a blocking block with the report, passes a yielding
    one, and leaves the watchdog off after."""
    data = _run("watchdog_no_stall.py", **EVENTLET).json()
    assert data["error_type"] == "AssertionError"
    error = data["error"]
    assert error.startswith("patchguard watchdog: the hub stalled:")
    path, number = line_of("watchdog_no_stall.py", "BLOCKS-IN-SCOPE").rsplit(
        ":", 1
    )
    assert f'File "{path}", line {number}, in <module>' in error
    assert data["running_after"] is None


@pytest.mark.isolated
def test_pytest_marker(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """@pytest.mark.patchguard_no_stall fails a test that blocks the hub,
    with the report, and passes one that yields."""
    pytester.makepyfile(
        test_inner=textwrap.dedent(
            """
            import time
            import eventlet
            import pytest

            @pytest.mark.patchguard_no_stall(0.1)
            def test_blocks():
                end = time.monotonic() + 0.6
                while time.monotonic() < end:  # INNER-LOOP
                    pass

            @pytest.mark.patchguard_no_stall(threshold=0.1)
            def test_yields():
                eventlet.sleep(0.6)
            """
        )
    )
    for name in list(os.environ):
        if name.startswith(("PATCHGUARD_", "PYTEST_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("EVENTLET_TESTS", "1")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--patchguard-mode=eventlet", timeout=90
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*StallError: patchguard watchdog: the hub stalled:*",
            "*eventlet hub stalled*",
            "*while time.monotonic() < end:  # INNER-LOOP",
        ]
    )


# -- a real WSGI host --------------------------------------------------------


@pytest.mark.hosts
@pytest.mark.slow
def test_mod_wsgi_stall_reported() -> None:
    """Apache mod_wsgi, eventlet forced, PATCHGUARD_WATCHDOG=0.2: the
    request thread goes back to Apache's C code with a greenthread queued
    on its hub; the watchdog thread reports that stall, once."""
    from tests.hosts.apache import (
        mod_wsgi_express,
        modwsgi_venv,
        readable_source,
    )

    try:
        venv = modwsgi_venv()
        src = readable_source()
    except Unavailable as exc:
        pytest.skip(f"cannot run: {exc}")
    with mod_wsgi_express(
        venv,
        src,
        mpm="event",
        embedded=False,
        mode="eventlet",
        tickers=True,
        env_extra={"PATCHGUARD_WATCHDOG": "0.2"},
    ) as server:
        counts: dict[str, int] = {}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            state = http_json(server.port, "/state")
            server.pids.add(state["pid"])
            counts = state["watchdog"]
            if counts["stall_reports"]:
                break
            time.sleep(0.3)
    assert counts["stall_reports"] == 1, counts
    log = server.log_text
    assert STALL_HEAD in log, log[-3000:]
    assert "the OS thread is outside Python" in log, log[-3000:]
    assert server.exit_status == 0


@pytest.mark.isolated
def test_native_lifecycle() -> None:
    """Native mode: the bootstrap starts one OS thread and imports neither
    eventlet nor wrapt; start/stop are idempotent; a forked child runs its
    own watchdog thread; state() has counts."""
    data = _run(
        "watchdog_lifecycle.py",
        PATCHGUARD_MODE="native",
        PATCHGUARD_WATCHDOG="0.1",
        PATCHGUARD_WATCHDOG_TASK="3",
    ).json()
    assert data["heavy"] == []
    assert data["running"] == [0.1, 3.0]
    assert data["threads"] == ["patchguard-watchdog"]
    assert data["after_second_start"] == [0.1, 3.0]
    assert data["threads_after_second_start"] == ["patchguard-watchdog"]
    assert data["after_stop"] is None
    assert data["threads_after_stop"] == []
    assert data["restarted"] == [0.1, 2.0]
    assert data["child"] == {
        "running": [0.1, 2.0],
        "threads": ["patchguard-watchdog"],
    }
    assert data["state_keys"] == [
        "saturated",
        "stall_reports",
        "stalls",
        "stuck_tasks",
    ]


@pytest.mark.hosts
@pytest.mark.slow
def test_uwsgi_stall_reported() -> None:
    """uWSGI (threads, eventlet forced, PATCHGUARD_WATCHDOG=0.2): a request
    whose greenthread spins 1.5 s is reported by the worker's own watchdog
    thread (started after uWSGI's fork)."""
    from tests.hosts.uwsgi_host import uwsgi_server

    try:
        context = uwsgi_server(
            4, mode="eventlet", env_extra={"PATCHGUARD_WATCHDOG": "0.2"}
        )
        server = context.__enter__()
    except Unavailable as exc:
        pytest.skip(f"cannot run: {exc}")
    try:
        answer = http_json(server.port, "/spin?1.5")
        server.pids.add(answer["pid"])
        counts = answer["watchdog"]
        # On a loaded machine the watchdog thread may get its CPU only
        # after the spin: ask the same worker again.
        deadline = time.monotonic() + 10
        while not counts["stall_reports"] and time.monotonic() < deadline:
            state = http_json(server.port, "/state")
            server.pids.add(state["pid"])
            if state["pid"] == answer["pid"]:
                counts = state["watchdog"]
            time.sleep(0.2)
    finally:
        context.__exit__(None, None, None)
    assert counts["stall_reports"] >= 1, (answer, counts)
    log = server.log_text
    assert STALL_HEAD in log, log[-3000:]
    assert "in _spin" in log, log[-3000:]
    assert "SPIN-LOOP" in log, log[-3000:]


@pytest.mark.isolated
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["native", "eventlet"])
def test_patchguard_executor(mode: str) -> None:
    """patchguard.executor, read through its seam: a stuck task reported
    once under the executor's name with the sleeping line in its stack,
    one saturation report, no duplicate from the futurist pool below."""
    pytest.importorskip("futurist")
    data = _run_tasks("watchdog_executor.py", mode)
    stuck = [r for r in data["reports"] if r["kind"] == "stuck_task"]
    full = [r for r in data["reports"] if r["kind"] == "saturated"]
    assert len(stuck) == 1, data
    assert len(full) == 1, data
    kind = "green" if mode == "eventlet" else "native"
    assert stuck[0]["pool"] == f"patchguard.executor 'wd-exec' ({kind})"
    assert stuck[0]["running"] == "__main__.slow()", stuck[0]
    slow = line_of("watchdog_executor.py", "SLOW-EXECUTOR-TASK")
    assert f"{slow} in slow" in stuck[0]["stack"], stuck[0]
    # The executor's and the watchdog's plumbing is not the task's stack.
    plumbing = [
        f
        for f in stuck[0]["stack"]
        if "/patchguard/_executor/" in f
        or "/patchguard/executor.py" in f
        or "/patchguard/_watchdog/" in f
    ]
    assert plumbing == [], stuck[0]["stack"]
    assert full[0]["pool"] == stuck[0]["pool"]
    assert _stalls(data) == []


@pytest.mark.isolated
@pytest.mark.parametrize("hub", ["default", "asyncio"])
def test_hub_of_another_thread(hub: str) -> None:
    """A hub first run in another OS thread after the watchdog started is
    watched: its stall is reported with that thread and the loop line."""
    env = _green_env(hub, "0.2")
    data = _run("watchdog_off_main.py", **env).json()
    stalls = _stalls(data)
    assert len(stalls) == 1, data
    assert stalls[0]["thread"].startswith("second-hub"), stalls[0]
    loop = line_of("watchdog_off_main.py", "OFF-MAIN-LOOP")
    assert stalls[0]["stack"][-1] == f"{loop} in spin", stalls[0]
