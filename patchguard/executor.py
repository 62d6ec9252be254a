"""A ``concurrent.futures`` executor that follows the process's mode.

cloudkitty's processor fetches every metric of a scope concurrently
(greenthreads today, ``concurrent.futures`` later).  Code written against
:func:`executor` runs unchanged in both modes::

    from patchguard.executor import executor

    with executor(8, name="fetch") as pool:
        values = list(pool.map(fetch_metric, metrics, timeout=30))

The kind of pool is chosen when :func:`executor` is called, from where it
is called:

* native mode (or a process nothing patched): real threads, futurist's
  ``ThreadPoolExecutor``;
* eventlet mode, called on the hub's OS thread: greenthreads
  (``eventlet.GreenPool``);
* eventlet mode, called from a native OS thread (for instance one started
  by :func:`patchguard.threads.native_thread`): real OS threads and
  futures that wait natively, never green primitives off the hub's thread
  (they raise ``greenlet.error: Cannot switch to a different thread`` or
  hang there).

Arguments behave as ``concurrent.futures.ThreadPoolExecutor``'s: the same
``max_workers`` values are accepted or refused with the same exception
type, ``submit`` after ``shutdown`` raises ``RuntimeError``, ``map`` takes
``timeout``, ``shutdown`` takes ``wait`` and ``cancel_futures``.  Two
things differ on purpose: each task runs in a copy of the submitter's
``contextvars`` context (request ids, log context), and ``max_workers``
``nan``/``inf`` are refused (the stdlib accepts them and then never runs a
task, or never bounds the pool).

**The watchdog's seam.**  Every executor registers itself, weakly, when
it is made.  A monitor calls :func:`executors` from any thread at any
time and reads each one's :meth:`PoolExecutor.snapshot`: the pool's name,
kind and size, its :class:`Statistics`, each running task with its
start time (for stuck-task reports) and whether work is queued behind a
full pool (for saturation reports).  Reading never blocks the pool
(one short native lock) and never touches anything green.
"""

from __future__ import annotations

import contextvars
import itertools
import math
import time
import weakref
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from patchguard import _state
from patchguard._waiting import _allocate_lock, _get_ident

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "PoolExecutor",
    "RunningTask",
    "Snapshot",
    "Statistics",
    "executor",
    "executors",
]

P = ParamSpec("P")
R = TypeVar("R")

#: The kinds of pool, in :attr:`PoolExecutor.kind`.
GREEN = "green"
NATIVE = "native"

#: Every executor made and not yet garbage (private; tests may clear it).
_registry: weakref.WeakSet[PoolExecutor] = weakref.WeakSet()
_registry_guard = _allocate_lock()
_names = itertools.count()


@dataclass(frozen=True)
class Statistics:
    """What an executor has done so far.

    :ivar submitted: tasks accepted by ``submit`` (and ``map``).
    :ivar running: tasks running right now.
    :ivar queued: tasks accepted but not started nor cancelled.
    :ivar failed: finished tasks that raised.
    :ivar completed: finished tasks (failed ones included).
    :ivar cancelled: tasks cancelled before they started.
    :ivar average_runtime: mean run time of finished tasks, in seconds
        (``0.0`` before the first one).
    """

    submitted: int
    running: int
    queued: int
    failed: int
    completed: int
    cancelled: int
    average_runtime: float


@dataclass(frozen=True)
class RunningTask:
    """A task running right now, for stuck-task reports.

    :ivar task: the callable's qualified name (``module.function``).
    :ivar started: ``time.monotonic()`` when it started, in seconds.
    :ivar thread: the OS thread ident it runs on (the hub's thread for a
        green task).
    :ivar worker: the greenlet running a green task (``None`` for a
        native one), so a monitor can print its stack
        (``worker.gr_frame``).
    """

    task: str
    started: float
    thread: int
    worker: Any = None

    def age(self, now: float | None = None) -> float:
        """Return how long the task has been running, in seconds.

        :param now: a ``time.monotonic()`` value (default: now).
        """
        return (time.monotonic() if now is None else now) - self.started


@dataclass(frozen=True)
class Snapshot:
    """One executor's state, as :meth:`PoolExecutor.snapshot` reads it.

    :ivar name: the executor's name.
    :ivar kind: ``"green"`` or ``"native"``.
    :ivar max_workers: how many tasks may run at once.
    :ivar statistics: the :class:`Statistics`.
    :ivar running: the running tasks, oldest first.
    :ivar shutdown: whether ``shutdown`` was called.
    """

    name: str
    kind: str
    max_workers: int
    statistics: Statistics
    running: tuple[RunningTask, ...]
    shutdown: bool

    @property
    def saturated(self) -> bool:
        """Whether work waits behind a pool whose workers are all busy."""
        stats = self.statistics
        return stats.queued > 0 and stats.running >= self.max_workers


def _describe(fn: object) -> str:
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    module = getattr(fn, "__module__", None)
    return f"{module}.{name}" if module else str(name)


def _pool_size(max_workers: object) -> int:
    """Validate ``max_workers`` as ThreadPoolExecutor does; return a size.

    The comparison below is the stdlib's own (``max_workers <= 0``), so
    exactly the same values raise ``TypeError`` or ``ValueError``.
    """
    if max_workers is None:
        # concurrent.futures.ThreadPoolExecutor's default (Python 3.8+).
        import os

        return min(32, (os.cpu_count() or 1) + 4)
    try:
        refused = max_workers <= 0  # type: ignore[operator]
    except TypeError:
        raise TypeError(
            f"max_workers must be a number greater than 0 or None, not "
            f"{type(max_workers).__name__} {_short(max_workers)}"
        ) from None
    if refused:
        raise ValueError(
            f"max_workers must be greater than 0 (or None for the "
            f"default), got {_short(max_workers)}"
        )
    try:
        # A fractional size lets the stdlib start ceil(n) threads.
        return max(1, int(math.ceil(max_workers)))  # type: ignore[call-overload]
    except (ValueError, OverflowError, TypeError):
        raise ValueError(
            f"max_workers must be a finite number greater than 0 or None, "
            f"got {_short(max_workers)}"
        ) from None


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class PoolExecutor(Executor):
    """The executor :func:`executor` returns.

    :ivar name: the executor's name.
    :ivar kind: ``"green"`` or ``"native"``.
    :ivar max_workers: how many tasks may run at once.
    """

    def __init__(self, max_workers: object, name: str | None) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(
                f"name must be a str or None, not {type(name).__name__} "
                f"{_short(name)}"
            )
        self.max_workers = _pool_size(max_workers)
        self.name = name or f"PoolExecutor-{next(_names)}"
        # A plain OS lock held for a few bytecodes: safe from the hub,
        # from greenthreads and from native threads alike.
        self._guard = _allocate_lock()
        self._shutdown = False
        self._submitted = 0
        self._started = 0
        self._failed = 0
        self._completed = 0
        self._cancelled = 0
        self._runtime = 0.0
        self._running: dict[int, RunningTask] = {}
        #: futures submitted and not started yet, for cancel_futures.
        self._waiting: dict[int, Future[Any]] = {}
        self._ids = itertools.count()
        self._owner = _get_ident()
        self.kind, self._pool = self._make_pool()
        with _registry_guard:
            _registry.add(self)

    def _make_pool(self) -> tuple[str, Any]:
        # Why the caller's OS thread matters: green primitives belong to
        # the hub's thread; anywhere else they fail or hang.
        from patchguard._executor import pools
        from patchguard.threads import _threading_is_green

        if not _threading_is_green():
            return NATIVE, pools.FuturistPool(self.max_workers)
        if _state.on_hub_thread():
            return GREEN, pools.GreenPool(self.max_workers)
        return NATIVE, pools.NativePool(self.max_workers, self.name)

    def submit(
        self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs
    ) -> Future[R]:
        """Schedule ``fn(*args, **kwargs)``; return its future.

        The call runs in a copy of the caller's ``contextvars`` context.

        :param fn: the callable.
        :returns: a ``concurrent.futures.Future``.
        :raises RuntimeError: after :meth:`shutdown`, or when a green
            executor is used from another OS thread than the hub's.
        """
        if self.kind == GREEN and _get_ident() != self._owner:
            raise RuntimeError(
                f"executor {self.name!r} is green (made on the hub's thread) "
                f"and cannot take work from another OS thread: greenthreads "
                f"only run there. Fix: call patchguard.executor.executor() "
                f"in this thread to get a native pool."
            )
        context = contextvars.copy_context()
        task_name = _describe(fn)
        key = next(self._ids)

        def task() -> R:
            return self._run(key, task_name, context, fn, args, kwargs)

        with self._guard:
            if self._shutdown:
                raise RuntimeError(
                    "cannot schedule new futures after shutdown"
                )
            self._submitted += 1
        future: Future[R] = self._pool.submit(task)
        with self._guard:
            if not future.running() and not future.done():
                self._waiting[key] = future
        future.add_done_callback(lambda f: self._forget(key, f))
        return future

    def _forget(self, key: int, future: Future[Any]) -> None:
        with self._guard:
            self._waiting.pop(key, None)
            if future.cancelled():
                self._cancelled += 1

    def _run(
        self,
        key: int,
        task_name: str,
        context: contextvars.Context,
        fn: Callable[..., R],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> R:
        worker = None
        if self.kind == GREEN:
            from greenlet import getcurrent

            worker = getcurrent()
        started = time.monotonic()
        with self._guard:
            self._started += 1
            self._waiting.pop(key, None)
            self._running[key] = RunningTask(
                task_name, started, _get_ident(), worker
            )
        failed = True
        try:
            result = context.run(fn, *args, **kwargs)
            failed = False
            return result
        finally:
            elapsed = time.monotonic() - started
            with self._guard:
                del self._running[key]
                self._completed += 1
                self._failed += failed
                self._runtime += elapsed

    @property
    def statistics(self) -> Statistics:
        """The :class:`Statistics` so far (read from any thread)."""
        with self._guard:
            return self._statistics()

    def _statistics(self) -> Statistics:
        return Statistics(
            submitted=self._submitted,
            running=len(self._running),
            queued=self._submitted - self._started - self._cancelled,
            failed=self._failed,
            completed=self._completed,
            cancelled=self._cancelled,
            average_runtime=(
                self._runtime / self._completed if self._completed else 0.0
            ),
        )

    def snapshot(self) -> Snapshot:
        """Return the executor's state for a monitor (from any thread).

        :returns: a :class:`Snapshot`; its ``running`` tasks oldest first.
        """
        with self._guard:
            stats = self._statistics()
            running = sorted(self._running.values(), key=lambda t: t.started)
            shutdown = self._shutdown
        return Snapshot(
            self.name,
            self.kind,
            self.max_workers,
            stats,
            tuple(running),
            shutdown,
        )

    def shutdown(
        self, wait: bool = True, *, cancel_futures: bool = False
    ) -> None:
        """Stop taking work, as ``ThreadPoolExecutor.shutdown`` does.

        :param wait: wait until every started and queued task has finished
            (futurist's native workers notice the stop within 1 second).
        :param cancel_futures: cancel the tasks that have not started.
        """
        with self._guard:
            self._shutdown = True
            waiting = list(self._waiting.values()) if cancel_futures else []
        # A cancelled future stays queued in the pool; its worker skips it
        # (set_running_or_notify_cancel), as the stdlib's workers do.
        for future in waiting:
            future.cancel()
        self._pool.shutdown(wait)

    def __repr__(self) -> str:
        stats = self.statistics
        return (
            f"<PoolExecutor {self.name!r} {self.kind} "
            f"max_workers={self.max_workers} running={stats.running} "
            f"queued={stats.queued}>"
        )


def executor(max_workers: Any = None, name: str | None = None) -> PoolExecutor:
    """Return a ``concurrent.futures.Executor`` for the caller's side.

    Green (``eventlet.GreenPool``) when called on the hub's thread of an
    eventlet-mode process; real OS threads otherwise (futurist's
    ``ThreadPoolExecutor`` in native mode).

    :param max_workers: how many tasks may run at once; ``None`` gives
        ``concurrent.futures.ThreadPoolExecutor``'s default
        (``min(32, os.cpu_count() + 4)``).
    :param name: the executor's name, reported by monitors (and given to
        the threads of the off-hub native pool); default
        ``PoolExecutor-N``.
    :returns: a :class:`PoolExecutor`.
    :raises TypeError: when ``max_workers`` is not comparable with 0 (as
        the stdlib), or ``name`` is not a string.
    :raises ValueError: when ``max_workers`` is 0, negative, ``False``,
        ``nan`` or infinite.
    """
    return PoolExecutor(max_workers, name)


def executors() -> list[PoolExecutor]:
    """Return every live executor (the watchdog's entry point).

    Safe from any thread; the list is a copy.

    :returns: the executors made by :func:`executor` and not yet garbage
        collected, shut down ones included (check ``snapshot().shutdown``).
    """
    # Why the lock: a WeakSet changed by another thread while being
    # listed raises "set changed size during iteration".
    with _registry_guard:
        return list(_registry)
