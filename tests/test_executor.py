"""patchguard.executor: stdlib parity, statistics, the watchdog's seam.

These tests run in-process and ``make unit`` runs them twice through the
pytest plugin: once in native mode and once in eventlet mode, where the
test itself runs on the hub's thread (a green pool).  The ``*_off_hub``
variants repeat the checks from a native OS thread
(:func:`patchguard.threads.native_thread`), which in eventlet mode must
get a native pool.  The stdlib's ThreadPoolExecutor is the reference: its
answers are computed on the test's own thread, where it works in both
modes, and compared with ours wherever ours ran.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextvars
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from patchguard import _state, threads
from patchguard.executor import PoolExecutor, executor, executors
from tests.helpers import clean_env

# futurist's workers notice a shutdown within 1 s (they poll their
# queue), so examples that start a pool are kept few.
FEW = settings(max_examples=8, deadline=None)
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
REQUEST = contextvars.ContextVar("REQUEST", default="none")


def _real_sleep(seconds: float) -> None:
    # A native thread of an eventlet-mode process must not use the green
    # sleep; the hub's thread must not block natively.
    if _state.on_hub_thread() or "eventlet" not in sys.modules:
        time.sleep(seconds)
        return
    from eventlet import patcher

    patcher.original("time").sleep(seconds)


def off_hub(call: Callable[[], Any]) -> Any:
    """Run ``call`` in a native OS thread; return or re-raise its outcome."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed back to the test's thread
            box["error"] = exc

    threads.native_thread(run, name="off-hub-test").join(60)
    if "error" in box:
        raise box["error"]
    return box["value"]


def outcome(make: Callable[[], Any]) -> str:
    """Return ``"ok"`` or the name of the exception ``make()`` raised."""
    try:
        made = make()
    except Exception as exc:
        return type(exc).__name__
    made.shutdown(wait=True)
    return "ok"


MAX_WORKERS = st.one_of(
    st.none(),
    st.integers(-3, 12),
    st.booleans(),
    st.text(max_size=3),
    st.floats(-3, 12, allow_nan=False, allow_infinity=False),
    st.fractions(-3, 12),
    st.lists(st.integers(), max_size=2),
    st.complex_numbers(max_magnitude=3, allow_nan=False),
)


@SETTINGS
@given(value=MAX_WORKERS)
def test_max_workers_parity(value: Any) -> None:
    """max_workers is accepted or refused with the stdlib's exception type."""
    expected = outcome(lambda: cf.ThreadPoolExecutor(value))
    assert outcome(lambda: executor(value)) == expected


@SETTINGS
@given(value=MAX_WORKERS)
def test_max_workers_parity_off_hub(value: Any) -> None:
    """From a native thread max_workers is judged as the stdlib does."""
    expected = outcome(lambda: cf.ThreadPoolExecutor(value))
    assert off_hub(lambda: outcome(lambda: executor(value))) == expected


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e400])
def test_max_workers_non_finite_refused(value: float) -> None:
    """nan/inf are refused with ValueError naming the argument."""
    with pytest.raises(ValueError, match="max_workers must be a finite"):
        executor(value)


def test_max_workers_error_names_argument_and_value() -> None:
    """A refused max_workers names the argument, the value and the rule."""
    with pytest.raises(ValueError, match=r"greater than 0.*got -2"):
        executor(-2)
    with pytest.raises(TypeError, match=r"max_workers.*not str 'four'"):
        executor("four")
    with pytest.raises(TypeError, match="name must be a str"):
        executor(2, name=3)  # type: ignore[arg-type]


def _task(x: int) -> int:
    """A task that fails on multiples of 7, exits on multiples of 11."""
    if x % 11 == 0 and x:
        # Not an Exception: must fail only this future, never the worker.
        raise SystemExit(x)
    if x % 7 == 0:
        raise ValueError(f"bad {x}")
    return x * x


def run_workload(pool: cf.Executor, values: list[int]) -> list[Any]:
    """submit then map, reduced to comparable outcomes."""
    futures = [pool.submit(_task, v) for v in values]
    results: list[Any] = []
    for future in futures:
        error = future.exception(timeout=30)
        results.append(type(error).__name__ if error else future.result())
    try:
        results.append(list(pool.map(_task, values, timeout=30)))
    except (ValueError, SystemExit) as exc:
        results.append(f"{type(exc).__name__}: {exc}")
    return results


@FEW
@given(
    values=st.lists(st.integers(-50, 50), max_size=30),
    workers=st.integers(1, 6),
)
@example(values=[11, 1, 7, 2], workers=1)
def test_submit_and_map_parity(values: list[int], workers: int) -> None:
    """submit/map give the stdlib's results and exceptions, in order."""
    with cf.ThreadPoolExecutor(workers) as reference:
        expected = run_workload(reference, values)
    with executor(workers) as pool:
        assert run_workload(pool, values) == expected


@FEW
@given(
    values=st.lists(st.integers(-50, 50), max_size=30),
    workers=st.integers(1, 6),
)
@example(values=[11, 1, 7, 2], workers=1)
def test_submit_and_map_parity_off_hub(
    values: list[int], workers: int
) -> None:
    """From a native thread submit/map give the stdlib's answers."""
    with cf.ThreadPoolExecutor(workers) as reference:
        expected = run_workload(reference, values)

    def ours() -> list[Any]:
        with executor(workers) as pool:
            return run_workload(pool, values)

    assert off_hub(ours) == expected


def shutdown_cases(make: Callable[[], cf.Executor]) -> list[Any]:
    """submit after shutdown, map timeout, cancel_futures: the outcomes."""
    seen: list[Any] = []
    pool = make()
    pool.shutdown(wait=True)
    with pytest.raises(RuntimeError) as refused:
        pool.submit(_task, 1)
    seen.append(str(refused.value))
    pool = make()
    with pytest.raises(cf.TimeoutError):
        list(pool.map(_real_sleep, [0.3], timeout=0.05))
    pool.shutdown(wait=True)
    pool = make()
    busy = pool.submit(_real_sleep, 0.3)
    deadline = time.monotonic() + 10
    while not busy.running() and time.monotonic() < deadline:
        _yield()
    later = [pool.submit(_task, v) for v in range(1, 6)]
    pool.shutdown(wait=False, cancel_futures=True)
    seen.append([f.cancelled() for f in later])
    busy.result(timeout=30)
    pool.shutdown(wait=True)
    seen.append(busy.done())
    return seen


def test_shutdown_parity() -> None:
    """shutdown(wait, cancel_futures), map timeout: as the stdlib."""
    expected = shutdown_cases(lambda: cf.ThreadPoolExecutor(1))
    assert shutdown_cases(lambda: executor(1)) == expected
    assert expected[1] == [True] * 5


def test_shutdown_parity_off_hub() -> None:
    """From a native thread shutdown behaves as the stdlib's."""
    expected = shutdown_cases(lambda: cf.ThreadPoolExecutor(1))
    assert off_hub(lambda: shutdown_cases(lambda: executor(1))) == expected


def test_kind_follows_mode_and_thread() -> None:
    """Green on the hub's thread in eventlet mode; native anywhere else."""
    with executor(2) as pool:
        here = pool.kind
    there = off_hub(lambda: executor(2).kind)
    assert there == "native"
    assert here == ("green" if _state.on_hub_thread() else "native")


@pytest.mark.eventlet_only
def test_green_executor_refuses_native_thread() -> None:
    """A green pool refuses work from another OS thread, naming the fix."""
    with executor(2, name="hubpool") as pool:
        with pytest.raises(RuntimeError, match="'hubpool' is green.*Fix"):
            off_hub(lambda: pool.submit(_task, 1))


def _read_request() -> str:
    return REQUEST.get()


def test_contextvars_carried() -> None:
    """Each task sees the submitter's contextvars, wherever it runs."""

    def check() -> list[str]:
        token = REQUEST.set("req-42")
        try:
            with executor(3) as pool:
                return list(pool.map(lambda _: _read_request(), range(6)))
        finally:
            REQUEST.reset(token)

    assert check() == ["req-42"] * 6
    assert off_hub(check) == ["req-42"] * 6


def test_statistics_and_snapshot() -> None:
    """statistics and snapshot count submitted/running/queued/failed."""

    def scenario() -> tuple[Any, Any, Any]:
        with executor(1, name="stats") as pool:
            first = pool.submit(_real_sleep, 0.4)
            queued = [pool.submit(_task, v) for v in (7, 2, 3)]
            # Let the first task start (a green pool starts on yield).
            deadline = time.monotonic() + 10
            while not first.running() and time.monotonic() < deadline:
                _yield()
            busy = pool.snapshot()
            cf.wait([first, *queued], timeout=30)
            return busy, pool.statistics, pool

    busy, final, pool = scenario()
    assert busy.name == "stats"
    assert busy.statistics.submitted == 4
    assert busy.statistics.running == 1
    assert busy.statistics.queued == 3
    assert busy.saturated
    assert busy.running[0].task.endswith("_real_sleep")
    assert busy.running[0].age() >= 0
    assert final.submitted == 4
    assert final.completed == 4
    assert final.failed == 1
    assert final.queued == final.running == 0
    assert final.average_runtime > 0.05
    assert pool in executors()
    assert pool.snapshot().shutdown
    assert not pool.snapshot().saturated


def _yield() -> None:
    if _state.on_hub_thread():
        import eventlet

        eventlet.sleep(0.01)
    else:
        time.sleep(0.01)


def test_statistics_count_cancelled() -> None:
    """Cancelled futures leave the queue and count as cancelled."""
    pool = executor(1)
    blocker = pool.submit(_real_sleep, 0.2)
    waiting = pool.submit(_task, 2)
    assert waiting.cancel()
    pool.shutdown(wait=True)
    stats = pool.statistics
    assert blocker.done()
    assert (stats.submitted, stats.cancelled, stats.queued) == (2, 1, 0)
    assert stats.completed == 1


def test_is_a_concurrent_futures_executor() -> None:
    """The executor and its futures are concurrent.futures types."""
    with executor(2) as pool:
        assert isinstance(pool, cf.Executor)
        assert isinstance(pool, PoolExecutor)
        future = pool.submit(_task, 3)
        assert isinstance(future, cf.Future)
        assert future.result(timeout=30) == 9


@pytest.mark.parametrize("mode", ["native", "eventlet"])
def test_bootstrap_does_not_import_futurist(mode: str) -> None:
    """Neither the bootstrap nor importing the executor loads futurist."""
    code = (
        "import sys, patchguard.bootstrap, patchguard.executor;"
        "print(sorted(m for m in sys.modules if m.startswith("
        "('futurist', 'debtcollector'))))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=clean_env({"PATCHGUARD_MODE": mode}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert proc.stdout.strip() == "[]", proc.stderr


def test_native_executor_does_not_load_eventlet() -> None:
    """A native-mode executor runs tasks without importing eventlet."""
    code = (
        "import sys, patchguard.bootstrap\n"
        "from patchguard.executor import executor\n"
        "with executor(2) as pool:\n"
        "    assert pool.submit(pow, 2, 5).result(timeout=30) == 32\n"
        "print(sorted(m for m in sys.modules if m.startswith('eventlet')))"
    )
    env = clean_env({"PATCHGUARD_MODE": "native"})
    env.pop("EVENTLET_TESTS")  # let eventlet's banner show if it loads
    proc = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", proc.stderr
    assert "deprecated" not in proc.stderr.lower()
