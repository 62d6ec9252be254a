"""Stuck tasks and saturated pools, in both modes.

The hook is one wrapper around each pool's work item ``run`` (the method a
worker calls once per task) that records *what* runs *where* since *when*
in a dict, and one around ``submit`` that remembers the executor in a
``WeakSet`` so its queue can be read.  That is two dict operations per
task and one set insertion per submit, paid only while the watchdog is
on; :func:`unhook` puts the original methods back.

Pools covered: :class:`concurrent.futures.ThreadPoolExecutor` (and its
subclasses) and futurist's ``ThreadPoolExecutor`` family, hooked when
their module is imported.  In eventlet mode the workers of a patched
``concurrent.futures`` are greenthreads: a suspended worker's stack is
read from its greenlet, a running one's from ``sys._current_frames()``.
"""

from __future__ import annotations

import sys
import threading
import weakref
from typing import Any

from patchguard._watchdog.report import Report, capture

#: (module, work item class, executor class) hooked when imported.
_TARGETS = (
    ("concurrent.futures.thread", "_WorkItem", "ThreadPoolExecutor"),
    ("futurist._futures", None, "ThreadPoolExecutor"),
    ("futurist._utils", "WorkItem", None),
)


class Task:
    """A task running in a pool worker."""

    __slots__ = ("fn", "start", "ident", "greenlet", "thread", "reported")

    def __init__(
        self, fn: Any, start: float, ident: int, glet: Any, thread: Any
    ) -> None:
        self.fn = fn
        self.start = start
        self.ident = ident
        self.greenlet = glet
        self.thread = thread
        self.reported = False


_active = False
#: id(work item) → Task, for tasks running now (private).
_tasks: dict[int, Task] = {}
#: executors that received work while the watchdog was on.
_pools: weakref.WeakSet[Any] = weakref.WeakSet()
#: executor id → (monotonic time it became saturated, queue size then,
#: reported?).
_saturated: dict[int, list[Any]] = {}
#: (class, attribute) → original function, for :func:`unhook`.
_originals: dict[tuple[type, str], Any] = {}
_clock: Any = None
_get_ident: Any = None
_getcurrent: Any = None


def _hook_run(cls: type) -> None:
    if (cls, "run") in _originals:
        return
    original = cls.__dict__["run"]

    def run(self: Any) -> Any:
        if not _active:
            return original(self)
        key = id(self)
        _tasks[key] = Task(
            self.fn,
            _clock(),
            _get_ident(),
            _getcurrent() if _getcurrent is not None else None,
            threading.current_thread(),
        )
        try:
            return original(self)
        finally:
            del _tasks[key]

    run.__wrapped__ = original  # type: ignore[attr-defined]
    _originals[(cls, "run")] = original
    cls.run = run  # type: ignore[attr-defined]


def _hook_submit(cls: type) -> None:
    if (cls, "submit") in _originals:
        return
    original = cls.__dict__["submit"]

    def submit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _active:
            _pools.add(self)
        return original(self, *args, **kwargs)

    submit.__wrapped__ = original  # type: ignore[attr-defined]
    _originals[(cls, "submit")] = original
    cls.submit = submit  # type: ignore[attr-defined]


def _on_import(module: Any) -> None:
    for name, item, executor in _TARGETS:
        if name != module.__name__:
            continue
        if item is not None:
            _hook_run(getattr(module, item))
        if executor is not None:
            _hook_submit(getattr(module, executor))


def hook() -> None:
    """Start recording pool tasks (idempotent)."""
    global _active, _clock, _get_ident, _getcurrent
    import time

    from patchguard import _state
    from patchguard._hooks import importhook

    _clock = time.monotonic
    # The real OS ident even when ``_thread`` is patched.
    if "eventlet" in sys.modules:
        from eventlet import patcher

        _get_ident = patcher.original("_thread").get_ident
        if _state.patched_options():
            import greenlet

            _getcurrent = greenlet.getcurrent
    else:
        import _thread

        _get_ident = _thread.get_ident
    _active = True
    for name, _, _ in _TARGETS:
        importhook.when_imported(name, _on_import)


def unhook() -> None:
    """Stop recording and put the original methods back."""
    global _active, _getcurrent
    _active = False
    _getcurrent = None
    for (cls, attr), original in _originals.items():
        setattr(cls, attr, original)
    _originals.clear()
    _tasks.clear()
    _pools.clear()
    _saturated.clear()


def _workers(pool: Any) -> list[Any]:
    workers: Any = getattr(pool, "_threads", None)
    if workers is None:
        workers = getattr(pool, "_workers", ())
    return list(workers)


def pool_name(pool: Any) -> str:
    """Name a pool for a report (its thread prefix when it has one)."""
    cls = type(pool)
    label = f"{cls.__module__}.{cls.__qualname__}"
    prefix = getattr(pool, "_thread_name_prefix", "")
    if prefix:
        label += f" {prefix!r}"
    return f"{label} at 0x{id(pool):x}"


def _task_frame(task: Task, frames: dict[int, Any]) -> Any:
    glet = task.greenlet
    if glet is not None and glet.gr_frame is not None:
        return glet.gr_frame
    return frames.get(task.ident)


def _owner(task: Task) -> str:
    for pool in list(_pools):
        if task.thread in _workers(pool):
            return pool_name(pool)
    return f"worker thread {task.thread.name!r}"


def _callable_name(fn: Any) -> str:
    name = getattr(fn, "__qualname__", None) or repr(fn)
    module = getattr(fn, "__module__", None)
    return f"{module}.{name}()" if module else f"{name}()"


def check(threshold: float, now: float) -> list[Report]:
    """Report tasks past ``threshold`` and pools saturated that long.

    Each task and each saturation episode is reported once.

    :param threshold: seconds.
    :param now: ``time.monotonic()``.
    :returns: the new reports.
    """
    fresh = []
    frames: dict[int, Any] | None = None
    for task in list(_tasks.values()):
        age = now - task.start
        if task.reported or age <= threshold:
            continue
        if frames is None:
            frames = sys._current_frames()
        task.reported = True
        fresh.append(
            Report(
                kind="stuck_task",
                duration=age,
                threshold=threshold,
                thread=f"{task.thread.name} ({task.ident})",
                stack=capture(_task_frame(task, frames)),
                running=_callable_name(task.fn),
                pool=_owner(task),
            )
        )
    busy_threads = [t.thread for t in _tasks.values()]
    for pool in list(_pools):
        fresh.extend(_check_pool(pool, busy_threads, threshold, now))
    return fresh


def _check_pool(
    pool: Any, busy_threads: list[Any], threshold: float, now: float
) -> list[Report]:
    key = id(pool)
    try:
        limit = int(pool._max_workers)
        queued = int(pool._work_queue.qsize())
    except (AttributeError, TypeError, ValueError):
        return []
    workers = _workers(pool)
    busy = sum(1 for t in workers if t in busy_threads)
    if not (busy >= limit and queued > 0):
        _saturated.pop(key, None)
        return []
    episode = _saturated.get(key)
    if episode is None:
        _saturated[key] = [now, queued, False]
        return []
    since, first_queued, reported = episode
    if reported or now - since <= threshold or queued < first_queued:
        return []
    episode[2] = True
    return [
        Report(
            kind="saturated",
            duration=now - since,
            threshold=threshold,
            thread=f"{busy} worker(s)",
            running=f"{queued} task(s) queued",
            pool=pool_name(pool),
            detail=(
                f"all {limit} workers busy while the queue went from "
                f"{first_queued} to {queued} task(s)"
            ),
        )
    ]
