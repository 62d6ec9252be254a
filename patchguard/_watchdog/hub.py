"""Hub stall detection for eventlet mode.

How the watchdog knows the hub ran, cheaply: each watched hub carries a
repeating hub timer that stamps ``time.monotonic()`` every *period* (an
eighth of the threshold).  A timer costs one heap push per period and
nothing per switch, where ``greenlet.settrace`` (gevent's monitor) runs
Python code on every switch of every greenlet, and eventlet's own
``debug_blocking`` hooks run twice per loop iteration.  The timer only
fires when the hub loop runs, so a stamp older than ``period + threshold``
means the hub has been kept from running for at least ``threshold``.

The watchdog thread then looks at the hub's OS thread through
``sys._current_frames()`` (the only cross-thread view CPython offers; it
is what gevent's monitor and pyleak use) and reports a stall when

* the hub loop has started (or the watch was asked for explicitly) and
  its thread is executing Python code
  that is not the hub's own wait (a greenthread or the main greenlet
  blocked it: CPU work, a C driver, a native lock), or
* other greenthreads or timers are waiting on the hub, whatever the
  thread is doing (under mod_wsgi the request thread returns to Apache's C
  code and the hub, with its greenthreads, never runs again).

An idle hub keeps firing its stamp timer, so it is never reported, and a
thread that never started a hub loop with nothing queued is not either
(start-up imports after the bootstrap are not stalls).

Timers are only ever scheduled from the hub's own thread: eventlet hubs
are not thread-safe.  Hubs created after :func:`start` are watched from
their first loop run (the hub class's ``run`` is wrapped); hubs of other
threads created before it are not.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from patchguard import _state, _where
from patchguard._watchdog.report import Report, capture

#: eventlet's hub modules: a thread whose innermost frame is here (or in
#: asyncio/selectors under the asyncio hub) is the hub waiting for work.
_WAIT_PARTS = ("/eventlet/hubs/", "/selectors.py", "/asyncio/")


class HubWatch:
    """The watchdog's view of one hub.

    :ivar hub: the eventlet hub.
    :ivar ident: its OS thread's real ident.
    :ivar thread: that thread's name (for reports).
    :ivar stamp: monotonic time of the last stamp.
    :ivar ran: whether the hub loop has stamped at least once (or the
        watch was asked for explicitly, which counts as started).
    """

    __slots__ = ("hub", "ident", "thread", "stamp", "ran", "reported")

    def __init__(
        self, hub: Any, ident: int, thread: str, armed: bool = False
    ) -> None:
        self.hub = hub
        self.ident = ident
        self.thread = thread
        self.stamp = time.monotonic()
        self.ran = armed
        #: the stall being reported (until the hub stamps again).
        self.reported: Report | None = None


#: watched hubs by id (private; reset by :func:`unwatch_all`).
_watched: dict[int, HubWatch] = {}
#: stamps (and watchdog ticks) per threshold.
DIVISOR = 8
_period = 0.0125
_active = False
#: hub classes whose ``run`` is wrapped → their own ``run`` before (None
#: when it was inherited).
_wrapped_runs: dict[type, Any] = {}


def _stamp(watch: HubWatch) -> None:
    # Runs in the hub greenlet, on the hub's thread, once per period.
    if not _active or _watched.get(id(watch.hub)) is not watch:
        return
    watch.stamp = time.monotonic()
    watch.ran = True
    watch.hub.schedule_call_global(_period, _stamp, watch)


def _watch(hub: Any, armed: bool = False) -> None:
    # On the hub's own thread: the only place a timer may be added.
    if id(hub) in _watched:
        return
    watch = HubWatch(
        hub, _state.real_thread_ident(), _where.thread_name(), armed
    )
    _watched[id(hub)] = watch
    hub.schedule_call_global(_period, _stamp, watch)


def _wrap_run(cls: type) -> None:
    # The concrete hub class gets the wrapper even when ``run`` is
    # inherited (the default epolls hub takes BaseHub's); :func:`unwatch_all`
    # then deletes it again instead of pinning the base's function.
    if cls in _wrapped_runs:
        return
    original = cls.run  # type: ignore[attr-defined]

    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _active:
            _watch(self)
        return original(self, *args, **kwargs)

    run.__wrapped__ = original  # type: ignore[attr-defined]
    _wrapped_runs[cls] = cls.__dict__.get("run")
    cls.run = run  # type: ignore[attr-defined]


#: GreenThread's original ``__init__`` while spawn sites are recorded.
_greenthread_init: Any = None


def _not_user(filename: str) -> bool:
    return "/eventlet/" in filename or _where.is_internal(filename)


def _spawn_site() -> str | None:
    frame: Any = sys._getframe(2)
    while frame is not None and _not_user(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return None
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _record_spawn_sites() -> None:
    # eventlet keeps no spawn site; while the watchdog is on, each
    # GreenThread remembers its spawner's file:line (one short frame walk
    # per spawn) so a stall report can say where the blocker came from.
    global _greenthread_init
    module = sys.modules.get("eventlet.greenthread")
    if module is None or _greenthread_init is not None:
        return
    cls = module.GreenThread
    original = cls.__dict__["__init__"]

    def __init__(self: Any, parent: Any) -> None:
        original(self, parent)
        if _active:
            self._patchguard_spawned = _spawn_site()

    __init__.__wrapped__ = original  # type: ignore[attr-defined]
    _greenthread_init = original
    cls.__init__ = __init__


def watch_here(threshold: float, armed: bool) -> bool:
    """Watch the calling thread's hub and every hub started later.

    :param threshold: the stall threshold in seconds (stamps every eighth
        of it).
    :param armed: count this thread's hub as started even before its loop
        first runs (an explicit :func:`patchguard.watchdog.start` or
        ``no_stall``; the bootstrap passes False so start-up imports that
        follow it are not stalls).
    :returns: whether a hub is watched (False when eventlet is not in
        play).
    """
    global _period, _active
    hubs = sys.modules.get("eventlet.hubs")
    if hubs is None:
        return False
    _period = threshold / DIVISOR
    _active = True
    hub = hubs.get_hub()
    _wrap_run(type(hub))
    _record_spawn_sites()
    _watch(hub, armed)
    return True


def unwatch_all() -> None:
    """Stop stamping (each timer lapses at its next firing) and unwrap."""
    global _active
    _active = False
    _watched.clear()
    for cls, original in _wrapped_runs.items():
        if original is None:
            del cls.run  # type: ignore[attr-defined]
        else:
            cls.run = original  # type: ignore[attr-defined]
    _wrapped_runs.clear()
    global _greenthread_init
    module = sys.modules.get("eventlet.greenthread")
    if _greenthread_init is not None and module is not None:
        module.GreenThread.__init__ = _greenthread_init
    _greenthread_init = None


def _pending(hub: Any, own: int = 1) -> int:
    """Greenthreads/timers/listeners queued on ``hub`` besides our timer."""
    try:
        timers = len(hub.timers) + len(hub.next_timers) - own
        listeners = sum(len(v) for v in hub.listeners.values())
    except (AttributeError, TypeError):
        return 0
    return max(timers, 0) + listeners


def _is_hub_wait(frame: Any) -> bool:
    filename = frame.f_code.co_filename.replace("\\", "/")
    return any(part in filename for part in _WAIT_PARTS)


def _running(frame: Any) -> tuple[str, str | None]:
    """Name what runs on the hub's thread, and where it was spawned."""
    if frame is None:
        return (
            "none: the OS thread is outside Python (for instance back in a "
            "WSGI host's C code), so its hub cannot run",
            None,
        )
    bottom = frame
    found = None
    while bottom is not None:
        code = bottom.f_code
        if code.co_name == "main" and code.co_filename.endswith(
            "eventlet/greenthread.py"
        ):
            found = bottom
        bottom = bottom.f_back
    if found is None:
        return "the main greenlet", None
    local = found.f_locals
    function = local.get("function")
    name = getattr(function, "__qualname__", None) or repr(function)
    module = getattr(function, "__module__", "") or ""
    target = f"{module}.{name}" if module else name
    spawned = getattr(local.get("self"), "_patchguard_spawned", None)
    return f"GreenThread running {target}()", spawned


def _parked(hub: Any) -> list[Any]:
    """The greenlets parked on ``hub``: its timers' and listeners' owners.

    Read from another OS thread while the hub is stalled: each container
    is copied first (one C call under the GIL) so that code still running
    on the hub's thread cannot change it under the loop.  Not a walk of
    ``gc.get_objects()``: in a large process (a pytest run) that took
    0.3-0.5 s of a busy GIL, longer than a 0.1 s stall takes to report.
    """
    callbacks: list[Any] = []
    for name in ("next_timers", "timers"):
        for entry in list(getattr(hub, name, ()) or ()):
            timer = entry[-1] if isinstance(entry, tuple) else entry
            tpl = getattr(timer, "tpl", None)
            if tpl:
                callbacks.append(tpl[0])
    for name in ("listeners", "secondaries"):
        for bucket in list((getattr(hub, name, None) or {}).values()):
            for found in list(bucket.values()):
                items = found if isinstance(found, list) else [found]
                callbacks.extend(getattr(item, "cb", None) for item in items)
    kind = sys.modules["greenlet"].greenlet
    parked: dict[int, Any] = {}
    for callback in callbacks:
        owner = getattr(callback, "__self__", None)
        if not isinstance(owner, kind):
            # patchguard's own waiters keep their greenlet as _current.
            owner = getattr(owner, "_current", None)
        if isinstance(owner, kind) and not owner.dead:
            parked.setdefault(id(owner), owner)
    return list(parked.values())


def _waiting(hub: Any, limit: int = 10) -> list[str]:
    """Innermost user line of each greenthread parked on ``hub``."""
    if "greenlet" not in sys.modules:
        return []
    found = []
    for green in _parked(hub):
        frame = green.gr_frame
        while frame is not None and _not_user(frame.f_code.co_filename):
            frame = frame.f_back
        if frame is None:
            continue
        code = frame.f_code
        found.append(f"{code.co_filename}:{frame.f_lineno} in {code.co_name}")
        if len(found) >= limit:
            break
    return found


def next_due(threshold: float, now: float) -> float:
    """Seconds until the earliest unreported stamp would be late.

    The watchdog sleeps exactly that long (capped by its tick), so a
    stall is seen when it crosses the threshold, not up to a tick later.

    :param threshold: seconds.
    :param now: ``time.monotonic()``.
    :returns: seconds, at least 1 ms; ``inf`` when nothing is watched.
    """
    due = float("inf")
    for watch in list(_watched.values()):
        if watch.reported is None:
            due = min(due, watch.stamp + _period + threshold - now)
    return max(due + 0.001, 0.001)


def check(threshold: float, now: float) -> list[Report]:
    """Return a new report per hub that stalls now (called each tick).

    A stall is reported once; while it lasts the same report is kept in
    ``watch.reported`` and its duration updated.

    :param threshold: seconds.
    :param now: ``time.monotonic()``.
    :returns: reports of stalls first seen at this tick.
    """
    fresh = []
    frames: dict[int, Any] | None = None
    for watch in list(_watched.values()):
        late = now - watch.stamp - _period
        if late <= threshold:
            watch.reported = None
            continue
        if watch.reported is not None:
            watch.reported.duration = late
            continue
        if frames is None:
            frames = sys._current_frames()
        frame = frames.get(watch.ident)
        pending = _pending(watch.hub)
        busy = frame is not None and not _is_hub_wait(frame)
        started = watch.ran or bool(getattr(watch.hub, "running", False))
        if not (pending or (started and busy)):
            continue
        detail = (
            f"{pending} timer(s)/listener(s) waiting on this hub"
            if pending
            else "nothing else was queued on the hub"
        )
        running, spawned = _running(frame)
        report = Report(
            kind="stall",
            duration=late,
            threshold=threshold,
            thread=f"{watch.thread} ({watch.ident})",
            stack=capture(frame),
            running=running,
            spawned_at=spawned,
            waiting=_waiting(watch.hub),
            detail=detail,
        )
        watch.reported = report
        fresh.append(report)
    return fresh
