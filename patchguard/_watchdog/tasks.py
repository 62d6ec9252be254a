"""Stuck tasks and saturated pools, in both modes.

Native workers cost nothing per task: the watchdog thread samples
``sys._current_frames()`` each tick and finds, in every thread's stack,
the frame of a pool's work item ``run`` (matched by code object).  The
same frame object seen at two ticks is the same task still running, so a
task's age is known to within a tick, and its stack is right there.

Green workers (a patched ``concurrent.futures`` in eventlet mode runs its
workers as greenthreads, invisible to ``sys._current_frames()`` while
suspended) are recorded instead by a wrapper around the work item's
``run``: a tuple and two dict operations per task, and their stack is
read from the greenlet.

``submit`` is wrapped in both modes to remember each executor (a weak
reference, one dict lookup per submit) so its queue can be read for the
saturation check.  Everything is hooked only while the watchdog is on and
put back by :func:`unhook`.  Pools covered:
:class:`concurrent.futures.ThreadPoolExecutor` (and subclasses) and
futurist's ``ThreadPoolExecutor`` family, hooked when their module is
imported.
"""

from __future__ import annotations

import sys
import weakref
from typing import Any

from patchguard._watchdog import saturation as _saturation
from patchguard._watchdog import seam as _seam
from patchguard._watchdog.report import Report, capture, thread_names

#: (module, work item class, executor class) hooked when imported.
_TARGETS = (
    ("concurrent.futures.thread", "_WorkItem", "ThreadPoolExecutor"),
    ("futurist._futures", None, "ThreadPoolExecutor"),
    ("futurist._utils", "WorkItem", None),
)


#: what a running task's record holds: (callable, start time, real OS
#: ident, greenlet or None).  A tuple, not an object: it is built once per
#: task on the worker's hot path.
TaskRecord = tuple[Any, float, int, Any]


_active = False
#: id(work item) → record, for tasks running now (private).
_tasks: dict[int, TaskRecord] = {}
#: ids of the running tasks already reported.
_reported: set[int] = set()
#: id(executor) → weak reference, for executors that received work while
#: the watchdog was on (a dict check per submit; a ``WeakSet`` would
#: build a new weak reference every time).
_pools: dict[int, weakref.ref[Any]] = {}
#: code objects of the work items' ``run`` (what sampling looks for).
_run_codes: set[Any] = set()
#: native sampling: OS ident → [run frame, first seen, reported, callee
#: frame] for threads inside a work item's ``run`` at the last tick.  The
#: frame is held until the next tick: holding it is what makes "the same
#: object" mean "the same task" (a freed frame's address is reused).
_seen: dict[int, list[Any]] = {}
#: (class, attribute) → original function, for :func:`unhook`.
_originals: dict[tuple[type, str], Any] = {}
_clock: Any = None
_get_ident: Any = None
_getcurrent: Any = None


def _hook_run(cls: type) -> None:
    original = cls.__dict__["run"]
    _run_codes.add(original.__code__)
    if (cls, "run") in _originals or _getcurrent is None:
        # Native workers are sampled, not wrapped.
        return

    def run(self: Any) -> Any:
        if not _active:
            return original(self)
        key = id(self)
        glet = _getcurrent() if _getcurrent is not None else None
        _tasks[key] = (self.fn, _clock(), _get_ident(), glet)
        try:
            return original(self)
        finally:
            del _tasks[key]
            if _reported:
                _reported.discard(key)

    run.__wrapped__ = original  # type: ignore[attr-defined]
    _originals[(cls, "run")] = original
    cls.run = run  # type: ignore[attr-defined]


def _hook_submit(cls: type) -> None:
    if (cls, "submit") in _originals:
        return
    original = cls.__dict__["submit"]

    def submit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _active and id(self) not in _pools:
            _remember(self)
        return original(self, *args, **kwargs)

    submit.__wrapped__ = original  # type: ignore[attr-defined]
    _originals[(cls, "submit")] = original
    cls.submit = submit  # type: ignore[attr-defined]


def _remember(pool: Any) -> None:
    key = id(pool)

    def forget(_: object, key: int = key) -> None:
        _pools.pop(key, None)

    _pools[key] = weakref.ref(pool, forget)


def _live_pools() -> list[Any]:
    return [p for p in (r() for r in list(_pools.values())) if p is not None]


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
    _seen.clear()
    _reported.clear()
    _seam.reset()
    _pools.clear()
    _saturation.reset()


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


def _task_frame(record: TaskRecord, frames: dict[int, Any]) -> Any:
    glet = record[3]
    if glet is not None and glet.gr_frame is not None:
        return glet.gr_frame
    return frames.get(record[2])


def _worker_ident(record: TaskRecord) -> int:
    # What ``threading.get_ident()`` said in the worker: the greenlet's id
    # when workers are greenthreads (eventlet's green ``get_ident``).
    glet = record[3]
    return id(glet) if glet is not None else record[2]


def _owner(record: TaskRecord) -> tuple[str, str]:
    """Return (pool name, worker thread name) for a running task."""
    ident = _worker_ident(record)
    for pool in _live_pools():
        for thread in _workers(pool):
            if thread.ident == ident:
                return pool_name(pool), f"{thread.name} ({record[2]})"
    return "an unknown pool", f"thread {record[2]}"


def _callable_name(fn: Any) -> str:
    name = getattr(fn, "__qualname__", None) or repr(fn)
    module = getattr(fn, "__module__", None)
    return f"{module}.{name}()" if module else f"{name}()"


def _sample(now: float) -> dict[int, Any]:
    """Update :data:`_seen` from every OS thread's stack; return frames."""
    frames = sys._current_frames()
    alive: dict[int, list[Any]] = {}
    for ident, frame in frames.items():
        callee = None
        run: Any = frame
        while run is not None and run.f_code not in _run_codes:
            callee = run
            run = run.f_back
        if run is None or _ours(callee):
            # patchguard's executor runs its tasks through futurist; it
            # reports them itself through its seam, by their own name.
            continue
        entry = _seen.get(ident)
        if entry is None or entry[0] is not run:
            entry = [run, now, False, callee]
        entry[3] = callee
        alive[ident] = entry
    _seen.clear()
    _seen.update(alive)
    return frames


_PACKAGE = __file__.rsplit("/_watchdog/", 1)[0] + "/"


def _ours(frame: Any) -> bool:
    return frame is not None and frame.f_code.co_filename.startswith(_PACKAGE)


def _frame_name(frame: Any) -> str:
    if frame is None:
        return "a task"
    code = frame.f_code
    name = getattr(code, "co_qualname", code.co_name)
    module = frame.f_globals.get("__name__")
    return f"{module}.{name}()" if module else f"{name}()"


def check(threshold: float, now: float) -> list[Report]:
    """Report tasks past ``threshold`` and pools saturated that long.

    Each task and each saturation episode is reported once.

    :param threshold: seconds.
    :param now: ``time.monotonic()``.
    :returns: the new reports.
    """
    fresh = []
    frames = _sample(now) if _getcurrent is None else None
    for ident, entry in _seen.items():
        if entry[2] or now - entry[1] <= threshold:
            continue
        entry[2] = True
        assert frames is not None
        pool = _pool_of(ident)
        name = thread_names().get(ident, "?")
        fresh.append(
            Report(
                kind="stuck_task",
                duration=now - entry[1],
                threshold=threshold,
                thread=f"{name} ({ident})",
                stack=capture(frames.get(ident)),
                running=_frame_name(entry[3]),
                pool=pool,
            )
        )
    for key, record in list(_tasks.items()):
        age = now - record[1]
        if key in _reported or age <= threshold:
            continue
        if frames is None:
            frames = sys._current_frames()
        _reported.add(key)
        pool, thread = _owner(record)
        fresh.append(
            Report(
                kind="stuck_task",
                duration=age,
                threshold=threshold,
                thread=thread,
                stack=capture(_task_frame(record, frames)),
                running=_callable_name(record[0]),
                pool=pool,
            )
        )
    owned: set[int] = set()
    seam = sys.modules.get("patchguard.executor")
    if seam is not None:
        if frames is None:
            frames = sys._current_frames()
        fresh.extend(_seam.check(seam, threshold, now, frames, owned))
    busy = set(_seen) | {_worker_ident(r) for r in list(_tasks.values())}
    for pool in _live_pools():
        if id(pool) not in owned:
            fresh.extend(_check_pool(pool, busy, threshold, now))
    return fresh


def _pool_of(ident: int) -> str:
    for pool in _live_pools():
        if any(t.ident == ident for t in _workers(pool)):
            return pool_name(pool)
    return "an unknown pool"


def _check_pool(
    pool: Any, busy_idents: set[int], threshold: float, now: float
) -> list[Report]:
    try:
        limit = int(pool._max_workers)
        queued = int(pool._work_queue.qsize())
    except (AttributeError, TypeError, ValueError):
        return []
    busy = sum(1 for t in _workers(pool) if t.ident in busy_idents)
    return _saturation.check(
        ("pool", id(pool)),
        busy >= limit and queued > 0,
        queued,
        pool_name(pool),
        limit,
        busy,
        threshold,
        now,
    )
