"""Starting real OS threads in either mode, for :mod:`patchguard.threads`.

In native mode a native thread is a plain ``threading.Thread``.  In
eventlet mode ``threading`` is green, so the thread comes from the
unpatched module (``eventlet.patcher.original``), its end is signalled
through a :class:`Latch` (which a greenthread can wait on without
blocking the hub), and since the patched ``threading`` does not know it,
a non-daemon one is joined at interpreter exit from here.
"""

from __future__ import annotations

import sys

from patchguard._waiting import _allocate_lock, _Waiter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType
    from typing import Any


class Latch:
    """Set once from any thread; waited on from any thread or greenthread."""

    def __init__(self) -> None:
        self._guard = _allocate_lock()
        self._set = False
        self._waiters: list[_Waiter] = []

    def set(self) -> None:
        with self._guard:
            self._set = True
            waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.fire()

    def wait(self, timeout: float | None) -> bool:
        with self._guard:
            if self._set:
                return True
            waiter = _Waiter()
            self._waiters.append(waiter)
        try:
            fired = waiter.wait(timeout)
        finally:
            with self._guard:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        return fired or self._set


def threading_is_green() -> bool:
    threading = sys.modules.get("threading")
    if threading is None or "eventlet" not in sys.modules:
        return False
    module = getattr(threading.Lock, "__module__", None) or ""
    return module == "eventlet" or module.startswith("eventlet.")


#: non-daemon native threads started in eventlet mode (private): the
#: patched ``threading`` does not know them, so exit joins them here.
_non_daemon: list[Any] = []
_atexit_armed = False


def _join_non_daemon() -> None:
    while _non_daemon:
        _non_daemon.pop().join()


def start(
    target: Callable[..., object],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    name: str | None,
    daemon: bool,
    caller: FrameType,
) -> tuple[Any, Latch | None]:
    """Start ``target`` on a real OS thread.

    :param caller: the frame that asked for the thread (its culprit is
        recorded for the fork and leak detectors).
    :returns: the ``Thread`` object and, in eventlet mode, the latch set
        when ``target`` returns (``None`` in native mode: ``join`` it).
    """
    global _atexit_armed
    if not threading_is_green():
        import threading

        plain = threading.Thread(
            target=target, args=args, kwargs=kwargs, name=name, daemon=daemon
        )
        plain.start()
        return plain, None

    from eventlet import patcher

    real_threading = patcher.original("threading")
    done = Latch()

    def run() -> None:
        try:
            target(*args, **kwargs)
        finally:
            done.set()

    # Name the user's target and line (the fork and leak detectors read
    # both): the original threading module is not watched.
    run.__wrapped__ = target  # type: ignore[attr-defined]
    thread = real_threading.Thread(target=run, name=name, daemon=daemon)
    from patchguard import _where
    from patchguard._hooks import threadwatch as _threadwatch

    found = _where.culprit(caller)
    if found is not None:
        thread.__dict__[_threadwatch.SITE_ATTR] = found
    if name is None:
        # threading names it after ``run``; name it after the target.
        label = getattr(target, "__name__", None)
        if isinstance(label, str):
            thread.name = f"{thread.name.split(' ')[0]} ({label})"
    if not daemon:
        _non_daemon[:] = [t for t in _non_daemon if t.is_alive()]
        _non_daemon.append(thread)
        if not _atexit_armed:
            import atexit

            atexit.register(_join_non_daemon)
            _atexit_armed = True
    thread.start()
    return thread, done
