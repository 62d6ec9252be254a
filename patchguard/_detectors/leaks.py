"""Find the threads and greenthreads a test left running.

Used by the pytest plugin's strict mode: :func:`snapshot` before a test's
body, :func:`leaks` after its teardown.  Comparing two snapshots is cheap
(counts and idents) so the per-test cost stays in microseconds; names and
start sites are only worked out for what actually leaked.
"""

from __future__ import annotations

import sys
import threading
import time

from patchguard import _state
from patchguard._hooks import threadwatch as _threadwatch

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType
    from typing import Any

#: packages whose frames wait on a thread's behalf (skipped when naming
#: where a leaked thread is).
_WAITING = frozenset({"threading", "queue", "eventlet", "greenlet"})


class Snapshot:
    """The threads and greenthreads alive at one moment.

    :ivar threads: ``threading.enumerate()`` at that moment.
    :ivar os_threads: idents of the OS threads running Python code.
    :ivar greenlets: greenlets the eventlet hub will resume.
    """

    __slots__ = ("threads", "os_threads", "greenlets")

    def __init__(
        self,
        threads: list[threading.Thread],
        os_threads: frozenset[int],
        greenlets: set[Any],
    ) -> None:
        self.threads = threads
        self.os_threads = os_threads
        self.greenlets = greenlets


def _hub_greenlets() -> set[Any]:
    """Greenlets the hub will resume: pending timers and I/O waits."""
    hubs = sys.modules.get("eventlet.hubs")
    # Never create a hub: only one this thread already runs can hold work.
    hub = getattr(getattr(hubs, "_threadlocal", None), "hub", None)
    if hub is None:
        return set()
    greenlet_type = sys.modules["greenlet"].greenlet
    found = set()
    for _, timer in (*hub.timers, *hub.next_timers):
        if timer.called:
            continue
        # LocalTimer names its greenlet; the rest call ``glet.switch``.
        glet = getattr(timer, "greenlet", None)
        if glet is None:
            glet = getattr(timer.tpl[0], "__self__", None)
        found.add(glet)
    for table in (hub.listeners, hub.secondaries):
        for bucket in table.values():
            for entry in bucket.values():
                for listener in entry if isinstance(entry, list) else [entry]:
                    found.add(getattr(listener, "greenlet", None))
    current = sys.modules["greenlet"].getcurrent()
    return {
        g
        for g in found
        if isinstance(g, greenlet_type)
        and not g.dead
        and g is not current
        and g is not hub.greenlet
    }


def snapshot() -> Snapshot:
    """Record the threads and greenthreads alive now (a few microseconds).

    :returns: the snapshot.
    """
    return Snapshot(
        threading.enumerate(),
        frozenset(sys._current_frames()),
        _hub_greenlets(),
    )


def _package(frame: FrameType) -> str:
    return str(frame.f_globals.get("__name__", "")).partition(".")[0]


def _frame_site(frame: FrameType | None) -> str:
    # The innermost frame is usually the stdlib or eventlet waiting on the
    # thread's behalf; name the code that asked it to wait.
    first = frame
    while frame is not None and _package(frame) in _WAITING:
        frame = frame.f_back
    frame = frame or first
    if frame is None:
        return "not started yet"
    code = frame.f_code
    return f"running {code.co_name} at {code.co_filename}:{frame.f_lineno}"


def _is_tpool(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_globals.get("__name__") == "eventlet.tpool":
            return True
        frame = frame.f_back
    return False


def leaks(before: Snapshot) -> list[str]:
    """Describe what runs now that did not in ``before``.

    eventlet's own ``tpool`` worker threads are shared by design and never
    count.

    :param before: from :func:`snapshot`.
    :returns: one description per leaked thread or greenthread.
    """
    threads = threading.enumerate()
    frames = sys._current_frames()
    new_os = frames.keys() - before.os_threads
    new_greens = _hub_greenlets() - before.greenlets
    # The common case, a test that left nothing behind, ends here: equal
    # lists compare by identity, element by element.
    if threads == before.threads and not new_os and not new_greens:
        return []
    found = []
    known = {thread.ident for thread in threads}
    old = set(before.threads)
    green_thread: bool | None = None
    for thread in threads:
        if thread in old or not thread.is_alive():
            continue
        if green_thread is None:
            green_thread = "thread" in _state.patched_options()
        kind = "greenthread" if green_thread else "native thread"
        site = _threadwatch.started_at(thread) or "an unknown site"
        found.append(f"{thread.name!r} ({kind}, started at {site})")
    for ident in sorted(new_os - known):
        frame = frames[ident]
        if not _is_tpool(frame):
            found.append(
                f"native thread ident={ident} unknown to threading "
                f"({_frame_site(frame)})"
            )
    for glet in new_greens:
        # A green threading.Thread's ident is id() of its greenlet: it is
        # already listed, by name.
        if id(glet) not in known:
            found.append(f"greenthread {_frame_site(glet.gr_frame)}")
    return found


def pause() -> None:
    """Give threads (or, on the hub's thread, greenthreads) a moment."""
    hubs = sys.modules.get("eventlet.hubs")
    if getattr(getattr(hubs, "_threadlocal", None), "hub", None) is not None:
        # Let the hub run, so greenthreads get their chance to finish.
        sys.modules["eventlet"].sleep(0.01)
    else:
        time.sleep(0.01)
