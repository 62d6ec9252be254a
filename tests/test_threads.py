"""patchguard.threads: native threads, shared logging locks, the handoff.

Everything that patches or starts threads runs in a fresh interpreter
(``tests/isolated/threads_*.py``); the in-process tests below only use the
primitives from one thread, in this unpatched process.
"""

from __future__ import annotations

import queue
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patchguard.threads import Handoff, SharedRLock
from tests import parity
from tests.helpers import run_isolated

MODES = ["eventlet", "native"]


def _run(script: str, mode: str, *args: str, timeout: float = 90) -> Any:
    result = run_isolated(
        script, *args, env={"PATCHGUARD_MODE": mode}, timeout=timeout
    )
    assert result.returncode == 0, result.stderr
    assert "greenlet.error" not in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.json()


# -- native_thread ---------------------------------------------------------


@pytest.mark.isolated
def test_native_thread_ticks_while_hub_is_blocked() -> None:
    """Hub blocked 2 s natively: native_thread ticks on, a green thread not."""
    out = _run("threads_ticker.py", "eventlet")
    assert out["mode"] == "eventlet"
    assert out["native"]["ticks"] >= 14, out
    assert out["native"]["max_gap"] < 0.5, out
    assert out["thread"]["ticks"] <= 1, out
    assert out["thread"]["max_gap"] >= 1.9, out
    assert out["native_name"] == "native-ticker"
    assert out["native_alive"] is False
    # A real OS thread the patched threading module does not list.
    assert out["native_is_plain_threading"] is False


@pytest.mark.isolated
def test_native_mode_is_plain_threading() -> None:
    """Native mode: native_thread is a plain threading.Thread; both tick."""
    out = _run("threads_ticker.py", "native")
    assert out["mode"] == "native"
    assert out["native_is_plain_threading"] is True
    for kind in ("native", "thread"):
        assert out[kind]["ticks"] >= 14, out
        assert out[kind]["max_gap"] < 0.5, out


@pytest.mark.isolated
@pytest.mark.parametrize("mode", MODES)
def test_non_daemon_native_thread_finishes_at_exit(
    mode: str, tmp_path: Path
) -> None:
    """A native_thread(daemon=False) still finishes after main is done."""
    target = tmp_path / "finished"
    result = run_isolated(
        "threads_exit.py", str(target), env={"PATCHGUARD_MODE": mode}
    )
    assert result.returncode == 0, result.stderr
    assert target.read_text() == "finished"


@pytest.mark.isolated
@pytest.mark.parametrize("mode", MODES)
def test_native_thread_may_log_run_commands_and_sleep(mode: str) -> None:
    """A native_thread may log, run subproc commands and sleep; hub runs on."""
    out = _run("threads_workload.py", mode)
    expected_backends = (
        ["green", "green", "green", "native", "native"]
        if mode == "eventlet"
        else ["native"] * 5
    )
    assert out["backends"] == expected_backends
    expected = sorted(
        [f"native-{i}" for i in range(20)] * 2
        + [f"green-{i}" for i in range(20)] * 3
    )
    assert out["outputs"] == expected
    assert out["seconds"] >= 1.0
    assert out["ticker_max_gap"] < 0.3, out


# -- logging locks -----------------------------------------------------------


@pytest.mark.isolated
def test_logging_storm_native_and_green(tmp_path: Path) -> None:
    """2 native + 20 green threads x 1,000 lines: all written, no error."""
    out = _run(
        "threads_storm.py",
        "eventlet",
        "patchguard",
        "1000",
        str(tmp_path / "storm.log"),
        "60",
    )
    print(f"logging storm: {out}")
    assert out["handler_lock"] == out["module_lock"] == "SharedRLock"
    assert out["expected"] == 22000
    assert out["found"] == 22000
    assert out["missing"] == out["duplicated"] == 0
    assert out["yielding_handler_records"] == 22000
    assert out["errors"] == []
    assert out["elapsed"] < 30


@pytest.mark.isolated
def test_logging_storm_fails_without_patchguard(tmp_path: Path) -> None:
    """Control: after a bare monkey_patch the storm hits greenlet.error."""
    result = run_isolated(
        "threads_storm.py",
        "bare",
        "1000",
        str(tmp_path / "storm.log"),
        "5",
        timeout=60,
    )
    failed = result.returncode != 0 or "greenlet.error" in result.stderr
    assert failed, result.stdout
    assert "greenlet.error" in result.stderr or "Timeout" in result.stderr, (
        result.stderr[-2000:]
    )


@pytest.mark.isolated
def test_logging_storm_native_mode_keeps_stdlib_locks(tmp_path: Path) -> None:
    """Native mode leaves logging's own RLocks alone; the storm is clean."""
    out = _run(
        "threads_storm.py",
        "native",
        "patchguard",
        "1000",
        str(tmp_path / "storm.log"),
        "60",
    )
    assert out["handler_lock"] == out["module_lock"] == "RLock"
    assert out["found"] == out["expected"] == 22000
    assert out["errors"] == []


@pytest.mark.isolated
@pytest.mark.parametrize("mode", MODES)
def test_handlers_made_before_bootstrap_get_shared_locks(mode: str) -> None:
    """Early, late and module logging locks are all shared in eventlet mode."""
    out = _run("threads_prelogging.py", mode)
    lock = "SharedRLock" if mode == "eventlet" else "RLock"
    assert out["early_lock"] == out["late_lock"] == lock
    assert out["module_lock"] == lock
    assert out["native_lines"] == 2000
    assert out["lines"] >= 4000


@pytest.mark.isolated
@pytest.mark.parametrize("mode", MODES)
def test_shared_rlock_across_native_and_green(mode: str) -> None:
    """SharedRLock excludes, nests, checks owner, times out across threads."""
    out = _run("threads_lock.py", mode)
    assert out["exclusion"] == {
        "peak": 1,
        "total": 900,
        "errors": [],
        "locked_after": False,
    }
    foreign = out["foreign"]
    assert foreign["error"] == "cannot release un-acquired lock"
    assert foreign["acquired"] is False
    assert foreign["try_once"] is False
    assert 0.19 <= foreign["waited"] < 1.0
    assert foreign["ticker_max_gap"] < 0.15
    assert out["native_timed"]["acquired"] is False
    assert 0.19 <= out["native_timed"]["waited"] < 1.0
    assert out["final_unlocked"] is True


# -- Handoff ---------------------------------------------------------------


@pytest.mark.isolated
@pytest.mark.parametrize("mode", MODES)
def test_handoff_between_native_and_green(mode: str) -> None:
    """Handoff passes values both ways in order; green waits keep the hub."""
    out = _run("threads_handoff.py", mode)
    n2g = out["native_to_green"]
    assert n2g["values"] == list(range(20))
    assert n2g["error"] is None
    assert n2g["ticker_max_gap"] < 0.25, out
    timeout = out["green_timeout"]
    assert timeout["error"] == "Empty()"
    assert 0.45 <= timeout["seconds"] < 2.0
    assert timeout["ticker_max_gap"] < 0.25, out
    assert out["green_to_native"] == {
        "values": [0, 10, 20, 30, 40],
        "error": None,
    }
    assert out["nowait_empty"] is True
    join = out["green_join"]
    assert join["alive_after"] is False
    assert join["ticker_max_gap"] < 0.25, out
    assert out["join_timeout_alive"] is True


# -- in this (unpatched) process, one thread ---------------------------------


def test_shared_rlock_is_recursive_and_owner_checked() -> None:
    """Re-entry by the owner nests; release beyond it raises."""
    lock = SharedRLock()
    assert not lock.locked()
    with lock, lock:
        assert lock.locked()
        assert lock._is_owned()
        assert lock.acquire(blocking=False)
        lock.release()
    assert not lock.locked()
    with pytest.raises(RuntimeError, match="un-acquired"):
        lock.release()
    assert "unlocked" in repr(lock)


def test_shared_rlock_fork_reinit_unlocks() -> None:
    """_at_fork_reinit (what logging calls in a forked child) unlocks."""
    lock = SharedRLock()
    lock.acquire()
    lock._at_fork_reinit()
    assert not lock.locked()
    assert lock.acquire(blocking=False)
    lock.release()


def test_handoff_get_nowait_and_timeout_raise_queue_empty() -> None:
    """An empty Handoff raises queue.Empty now, or after the timeout."""
    box: Handoff[int] = Handoff()
    with pytest.raises(queue.Empty):
        box.get_nowait()
    with pytest.raises(queue.Empty):
        box.get(timeout=0.01)
    assert box.empty()
    assert box.qsize() == 0


@given(st.lists(st.integers()))
def test_handoff_is_fifo(values: list[int]) -> None:
    """Values come out of a Handoff in the order they went in."""
    box: Handoff[int] = Handoff()
    for value in values:
        box.put(value)
    assert box.qsize() == len(values)
    assert [box.get_nowait() for _ in values] == values
    assert box.empty()


# -- same inputs, same answers as threading / queue (issue 11 §2) ----------

#: Lock and queue timeouts that never make a blocked caller wait long:
#: those in (1 ms, TIMEOUT_MAX] would wait that long on the stdlib too.
SHORT_WAITS = parity.timeouts(1e-3, parity.TIMEOUT_MAX).filter(
    lambda x: x is not None and not (isinstance(x, float) and x != x)
)


def _lock_cases(any_value: list[Any], short: list[Any]) -> list[Any]:
    cases = []
    for value in parity.SPECIAL + any_value:
        cases += [("acquire", value), ("acquire_nb", value)]
        cases += [("get_full", value)]
    for value in short:
        if value != -1:  # -1 is "forever" for a blocked acquire
            cases.append(("acquire_held", value))
        cases.append(("get", value))
    return cases


@pytest.mark.isolated
@settings(max_examples=1, deadline=None)
@given(
    any_value=st.lists(parity.timeouts(0, 0), min_size=10, max_size=10),
    short=st.lists(SHORT_WAITS, min_size=10, max_size=10),
)
def test_lock_and_handoff_arguments_answer_as_the_stdlib(
    any_value: list[Any], short: list[Any]
) -> None:
    """SharedRLock.acquire(blocking, timeout) answers as threading.RLock
    (free and held) and Handoff.get(True, timeout) as queue.Queue.get
    (empty and not), for 0, tiny, negative, NaN, inf, huge, bool, str and
    generated values, natively, on the hub and on a native thread of
    eventlet mode."""
    short = [v for v in parity.SPECIAL if _short(v)] + short
    cases = _lock_cases(any_value, short)
    reference = parity.outcomes(cases, "stdlib", "native")["outcomes"]
    assert {"ok", "ValueError", "OverflowError", "TypeError"} <= set(reference)
    for place in parity.PLACES:
        assert parity.mismatches(cases, reference, place) == [], place


def _short(value: Any) -> bool:
    if value is None or isinstance(value, (str, bytes, Decimal)):
        return value is not None
    if value != value:
        return False
    return not 1e-3 < value <= parity.TIMEOUT_MAX


@pytest.mark.native_only  # the reference must be the stdlib's own RLock
@settings(max_examples=200, deadline=None)
@given(blocking=st.booleans(), timeout=parity.timeouts(0, 0))
def test_acquire_free_lock_parity(blocking: bool, timeout: Any) -> None:
    """On a free lock, SharedRLock().acquire(blocking, timeout) returns
    or raises exactly what threading.RLock's does (in this unpatched
    process)."""
    import threading

    if threading.RLock.__module__.startswith("eventlet"):
        pytest.skip("the stdlib reference is patched in this run")
    assert _outcome(SharedRLock().acquire, blocking, timeout) == (
        _outcome(threading.RLock().acquire, blocking, timeout)
    )


def _outcome(fn: Any, *args: Any) -> Any:
    try:
        return ("ok", fn(*args))
    except Exception as exc:  # compared, not handled
        return type(exc)
