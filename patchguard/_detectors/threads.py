"""Find the threads already running when the bootstrap patches.

A native thread started before ``monkey_patch()`` keeps running, but every
stdlib call it makes afterwards goes through green primitives: it vanishes
from ``threading.enumerate()``, dies with ``KeyError`` in
``threading._delete``, loses wake-ups or raises ``greenlet.error``.
Debuggers hide their threads from ``threading.enumerate()``, so the live
frames (``sys._current_frames()``) and the OS thread count are compared
too.
"""

from __future__ import annotations

import os
import sys

from patchguard._hooks import threadwatch as _threadwatch
from patchguard._record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class EarlyThread(Record):
    """A thread that was running before patching.

    :ivar name: the thread's name (``"<hidden>"`` when not registered with
        :mod:`threading`, as debuggers' threads are).
    :ivar ident: the thread identifier.
    :ivar daemon: the daemon flag, or ``None`` for hidden threads.
    :ivar target: the target's qualname and ``file:line``, or where a
        hidden thread is running now.
    :ivar started_at: ``file:line`` of the code that started it, when
        patchguard was watching, with ``(via lib/file.py:line)`` when a
        library started it on that line's behalf.
    """

    __slots__ = ("name", "ident", "daemon", "target", "started_at")

    def __init__(
        self,
        name: str,
        ident: int | None,
        daemon: bool | None,
        target: str | None,
        started_at: str | None,
    ) -> None:
        self.name = name
        self.ident = ident
        self.daemon = daemon
        self.target = target
        self.started_at = started_at

    def describe(self) -> str:
        """Return a one-line description naming everything known."""
        daemon = "" if self.daemon is None else f", daemon={self.daemon}"
        started = (
            f", started at {self.started_at}"
            if self.started_at
            else ", started before patchguard was watching"
        )
        return (
            f"{self.name!r} (ident={self.ident}{daemon}, "
            f"target={self.target or '?'}{started})"
        )


class ForeignThreads(Record):
    """OS threads that never ran Python: information, not a hazard.

    faulthandler's watchdog (``dump_traceback_later``) and threads a C
    library starts for itself never call into Python, so patching cannot
    reach them and they cannot hold a Python lock: they are listed so the
    thread count adds up, never as early threads, and strict mode lets
    them through.

    :ivar count: how many OS threads have no Python frame.
    :ivar os_threads: the process's OS thread count.
    :ivar python_threads: how many of them run Python.
    """

    __slots__ = ("count", "os_threads", "python_threads")

    def __init__(self, count: int, os_threads: int, python_threads: int):
        self.count = count
        self.os_threads = os_threads
        self.python_threads = python_threads

    def describe(self) -> str:
        """Return ``N OS thread(s) without Python frames ...``."""
        return (
            f"{self.count} OS thread(s) without Python frames (of "
            f"{self.os_threads}; a C library's own threads or faulthandler's "
            f"watchdog): patching does not touch them"
        )


def _code_site(func: object) -> str | None:
    func = getattr(func, "__func__", func)
    code = getattr(func, "__code__", None)
    qualname = getattr(func, "__qualname__", None) or repr(func)
    if code is None:
        return str(qualname)
    return f"{qualname} ({code.co_filename}:{code.co_firstlineno})"


def _target(thread: Any) -> str | None:
    target = getattr(thread, "_target", None)
    if target is not None:
        return _code_site(target)
    run = type(thread).run
    import threading

    if run is threading.Thread.run:
        return None
    return _code_site(run)


def os_thread_count() -> int | None:
    """Return the number of OS threads in this process (Linux), or None."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return None


def find(exclude: tuple[int, ...]) -> list[EarlyThread]:
    """List running threads other than the main thread and ``exclude``.

    Only threads that run Python count: see :func:`foreign` for the rest.

    :param exclude: idents to leave out (the bootstrapping thread).
    :returns: the threads, registered ones first, then hidden ones.
    """
    import threading

    main = threading.main_thread()
    skip = {main.ident, *exclude}
    found = []
    known = set()
    for thread in threading.enumerate():
        known.add(thread.ident)
        if thread.ident in skip:
            continue
        found.append(
            EarlyThread(
                thread.name,
                thread.ident,
                thread.daemon,
                _target(thread),
                _threadwatch.started_at(thread),
            )
        )
    frames = sys._current_frames()
    for ident, frame in frames.items():
        if ident in known or ident in skip:
            continue
        code = frame.f_code
        func = getattr(code, "co_qualname", code.co_name)
        where = f"running {func} at {code.co_filename}:{frame.f_lineno}"
        found.append(EarlyThread("<hidden>", ident, None, where, None))
    return found


def foreign() -> ForeignThreads | None:
    """Count the OS threads that run no Python (information only).

    :returns: the record, or ``None`` when every OS thread runs Python (or
        the OS cannot tell).
    """
    count = os_thread_count()
    python_threads = len(sys._current_frames())
    if count is None or count <= python_threads:
        return None
    return ForeignThreads(count - python_threads, count, python_threads)
