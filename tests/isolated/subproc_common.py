"""Shared helpers for the ``subproc_*`` scenarios.

Each scenario bootstraps (``PATCHGUARD_MODE`` picks the mode), runs its
body on the hub's thread (``hub``) or on a real OS thread (``thread``),
and prints one JSON line of facts.  In eventlet mode a ticker greenthread
measures how long the hub was stalled meanwhile.
"""

from __future__ import annotations

import faulthandler
import json
import os
import sys
import time
import warnings

import patchguard.bootstrap  # noqa: F401
from patchguard import state

# A hang must fail the test with a traceback, not a timeout.  (Started
# after the bootstrap: its watchdog is an OS thread.)
faulthandler.dump_traceback_later(100, exit=True)

warnings.simplefilter("always", ResourceWarning)
GREEN = state().mode == "eventlet"
WHERE = sys.argv[2] if len(sys.argv) > 2 else "hub"


def emit(facts: dict) -> None:
    """Print the facts as the last JSON line."""
    print(json.dumps(facts, default=repr), flush=True)


def children() -> list[tuple[int, str]]:
    """Return ``(pid, state)`` of every child of this process."""
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[1] == me:
            found.append((int(entry), fields[0]))
    return found


def marked(marker: str) -> list[int]:
    """Return the pids whose environment holds ``marker``."""
    found = []
    needle = marker.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


def fds() -> list[str]:
    """Return ``fd -> target`` for every open descriptor of this process."""
    out = []
    for fd in sorted(os.listdir("/proc/self/fd"), key=int):
        try:
            out.append(f"{fd}->{os.readlink(f'/proc/self/fd/{fd}')}")
        except OSError:
            continue  # the listing's own descriptor, now closed
    return out


class Ticker:
    """A 10 ms ticker greenthread; ``max_gap`` is its longest sleep."""

    def __init__(self) -> None:
        self.max_gap = 0.0
        self._stop = False
        self._thread = None

    def __enter__(self) -> Ticker:
        if GREEN:
            import eventlet

            self._thread = eventlet.spawn(self._run)
            eventlet.sleep(0.05)
        return self

    def _run(self) -> None:
        import eventlet

        last = time.monotonic()
        while not self._stop:
            eventlet.sleep(0.01)
            now = time.monotonic()
            self.max_gap = max(self.max_gap, now - last)
            last = now

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._stop = True
            self._thread.wait()


def run_here(fn):  # type: ignore[no-untyped-def]
    """Run ``fn`` where argv asked (hub thread, or a real OS thread).

    :returns: ``(result, hub_made)``; ``hub_made`` tells whether the OS
        thread created an eventlet hub (it must not).
    """
    if WHERE == "hub":
        return fn(), False
    if not GREEN:
        import threading

        box: dict = {}

        def target() -> None:
            try:
                box["result"] = fn()
            except BaseException as exc:  # reported to the caller
                box["error"] = exc

        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
        if "error" in box:
            raise box["error"]
        return box["result"], False

    import eventlet
    import eventlet.hubs
    from eventlet import patcher

    box = {}

    def native_target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:
            box["error"] = exc
        box["hub_made"] = hasattr(eventlet.hubs._threadlocal, "hub")

    thread = patcher.original("threading").Thread(target=native_target)
    thread.start()
    # Keep the hub (and the ticker) running while the thread works.
    while thread.is_alive():
        eventlet.sleep(0.005)
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"], box["hub_made"]


def spawn_all(fn, count: int) -> list:  # type: ignore[no-untyped-def]
    """Run ``fn(i)`` ``count`` times concurrently: greenthreads where the
    green backend applies, real OS threads anywhere else."""
    from patchguard import subproc

    if subproc.backend() == "green":
        import eventlet

        pool = [eventlet.spawn(fn, i) for i in range(count)]
        return [g.wait() for g in pool]
    if GREEN:
        from eventlet import patcher

        threading = patcher.original("threading")
    else:
        import threading
    results: list = [None] * count
    errors: list = []

    def target(i: int) -> None:
        try:
            results[i] = fn(i)
        except BaseException as exc:  # reported to the caller
            errors.append(exc)

    threads = [
        threading.Thread(target=target, args=(i,)) for i in range(count)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def nap(seconds: float) -> None:
    """Sleep without blocking the hub, and without green calls off it."""
    from patchguard import subproc

    if subproc.backend() == "green":
        import eventlet

        eventlet.sleep(seconds)
    elif GREEN:
        from eventlet import patcher

        patcher.original("time").sleep(seconds)
    else:
        time.sleep(seconds)


def kind(exc: BaseException) -> str:
    """Return ``module.QualName`` of an exception's class."""
    return f"{type(exc).__module__}.{type(exc).__qualname__}"
