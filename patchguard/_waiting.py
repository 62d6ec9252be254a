"""Waiting that works from both sides: greenthreads and native threads.

The machinery under :mod:`patchguard.threads`.  How a caller waits is
chosen at each wait: a caller on an OS thread that has an eventlet hub
parks its greenlet and lets the hub run; any other caller blocks on a real
OS lock.  A native thread wakes a parked greenthread through a per-hub pipe
the hub watches (a "doorbell", as ``eventlet.tpool`` does), so nothing
green is ever touched from the wrong OS thread.
"""

from __future__ import annotations

import os
import posix
import sys
import weakref
from collections import deque
from time import monotonic as _monotonic

from greenlet import getcurrent

from patchguard._timeouts import _real_thread_module, hub_seconds

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


_real = _real_thread_module()
_allocate_lock = _real.allocate_lock
_get_ident = _real.get_ident
# eventlet patches os.read/os.write (they trampoline on EAGAIN); the posix
# functions underneath are never patched, and only they are safe to call
# from any thread and from inside the hub.
_read = posix.read
_write = posix.write


def _me() -> object:
    """Identify the caller: its greenlet (one OS thread, one greenthread).

    While the interpreter shuts down greenlet refuses to answer; then
    only the main thread runs, and its OS thread ident is enough.
    """
    try:
        return getcurrent()
    except RuntimeError:
        return _get_ident()


def _parkable_hub() -> Any:
    """Return this OS thread's eventlet hub when the caller may park on it.

    ``None`` means "block natively": eventlet is not loaded, this thread
    never ran a hub (so no greenthread of it can be the one we wait for),
    or the caller *is* the hub's own greenlet and cannot switch away.
    """
    hubs = sys.modules.get("eventlet.hubs")
    if hubs is None:
        return None
    hub = getattr(getattr(hubs, "_threadlocal", None), "hub", None)
    if hub is None:
        return None
    me = _me()
    if hub.greenlet is me or isinstance(me, int):
        return None
    return hub


class _Doorbell:
    """Let any OS thread schedule a call in one hub, without touching it.

    The hub watches the read end of a pipe; :meth:`ring` queues a callable
    and writes a byte.  The hub then drains the pipe and schedules the
    queued calls as its own timers, in its own thread.
    """

    def __init__(self, hub: Any) -> None:
        self._hub = weakref.ref(hub)
        self._calls: deque[Callable[[], None]] = deque()
        self._rfd, self._wfd = posix.pipe()
        os.set_blocking(self._rfd, False)
        os.set_blocking(self._wfd, False)
        # Closing and ringing race only when the hub's thread is gone;
        # this native lock makes a late ring a no-op, never a write to a
        # recycled descriptor.
        self._closing = _allocate_lock()
        self.closed = False
        # eventlet's hub keeps its epoll across fork(), so a child shares
        # the parent's pipe: the child makes a bell of its own instead.
        self.pid = os.getpid()
        hub.add(hub.READ, self._rfd, self._on_readable, self._on_closed, None)

    def ring(self, call: Callable[[], None]) -> None:
        """Run ``call`` in the hub's thread soon; callable from any thread.

        :param call: a callable taking no arguments.
        """
        with self._closing:
            if self.closed or self.pid != os.getpid():
                return
            self._calls.append(call)
            try:
                _write(self._wfd, b"\0")
            except BlockingIOError:
                pass  # the pipe is full: a wake-up is already pending

    def _on_readable(self, fileno: int) -> None:
        # Runs in the hub greenlet.  Drain first, then take the calls: a
        # call queued after the drain comes with a byte of its own.
        if self.closed or self.pid != os.getpid():
            return  # the parent's bell, seen through the shared epoll
        try:
            while len(_read(self._rfd, 4096)) == 4096:
                pass
        except BlockingIOError:
            pass
        hub = self._hub()
        while self._calls:
            call = self._calls.popleft()
            if hub is not None:
                hub.schedule_call_global(0, call)

    def _on_closed(self, exc: BaseException) -> None:
        # The hub saw the descriptor closed under it: stop using this bell.
        self.close()

    def close(self) -> None:
        """Close the pipe; later rings are ignored."""
        with self._closing:
            if self.closed:
                return
            self.closed = True
            os.close(self._rfd)
            os.close(self._wfd)


#: hub → its doorbell (private).  Weak keys: a native thread's hub dies
#: with the thread, and its doorbell is closed then.
_doorbells: weakref.WeakKeyDictionary[Any, _Doorbell] = (
    weakref.WeakKeyDictionary()
)


def _doorbell(hub: Any) -> _Doorbell:
    # Only ever called on the hub's own thread, so creation cannot race.
    bell = _doorbells.get(hub)
    if bell is None or bell.closed or bell.pid != os.getpid():
        bell = _Doorbell(hub)
        _doorbells[hub] = bell
        # Not at exit: the hub may still poll during interpreter shutdown,
        # and an open pipe is harmless then.
        weakref.finalize(hub, bell.close).atexit = False
    return bell


class _Waiter:
    """One caller waiting for one wake-up: parked greenlet or OS thread.

    The owner (lock, queue, latch) registers a waiter under its guard and
    waits outside it; whoever wakes it decides the outcome (``key`` for a
    lock, ``value`` for a queue) under the same guard, then calls
    :meth:`fire` from whatever thread it runs on.
    """

    __slots__ = (
        "_hub",
        "_glet",
        "_thread",
        "_lock",
        "_bell",
        "_parked",
        "_expired",
        "fired",
        "key",
        "value",
    )

    def __init__(self, key: object = None) -> None:
        self.key = key
        self.value: Any = None
        self.fired = False
        self._hub = _parkable_hub()
        self._parked = False
        self._expired = False
        self._thread = _get_ident()
        if self._hub is None:
            # Allocated held: fire() releases it, wait() blocks on it.
            self._lock = _allocate_lock()
            self._lock.acquire()
        else:
            self._glet = getcurrent()
            # Made here, on the waiter's own thread: only that thread may
            # register a descriptor with its hub.
            self._bell = _doorbell(self._hub)

    def wait(self, timeout: float | None) -> bool:
        """Wait until fired or ``timeout`` seconds passed.

        :param timeout: seconds, or ``None`` for no limit.
        :returns: whether the waiter was fired.
        """
        hub = self._hub
        if hub is None:
            if timeout is None:
                self._lock.acquire()
            else:
                self._lock.acquire(True, max(timeout, 0.0))
            return self.fired
        timer = None
        deadline = None
        if timeout is not None:
            deadline = _monotonic() + timeout
            timer = hub.schedule_call_global(
                hub_seconds(timeout), self._expire
            )
        try:
            while not self.fired:
                if self._expired:
                    # A wait longer than HUB_MAX runs on re-armed timers.
                    left = deadline - _monotonic()  # type: ignore[operator]
                    if left <= 0:
                        break
                    self._expired = False
                    timer = hub.schedule_call_global(
                        hub_seconds(left), self._expire
                    )
                self._parked = True
                try:
                    hub.switch()
                finally:
                    self._parked = False
        finally:
            if timer is not None:
                timer.cancel()
        return self.fired

    def _expire(self) -> None:
        self._expired = True
        self._resume()

    def _resume(self) -> None:
        # Runs in the hub greenlet of the waiter's thread.  A wake-up that
        # arrives after the wait ended (timed out, or the greenthread was
        # killed) must not switch into it at some random later point.
        if self._parked:
            self._parked = False
            self._glet.switch()

    def fire(self) -> None:
        """Wake the waiter; callable once, from any thread."""
        self.fired = True
        hub = self._hub
        if hub is None:
            self._lock.release()
        elif _get_ident() == self._thread:
            hub.schedule_call_global(0, self._resume)
        else:
            self._bell.ring(self._resume)
