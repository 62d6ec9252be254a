"""Waiting on eventlet's hub for :mod:`patchguard.subproc`'s green backend.

Small hub-level primitives, each with a reason not to use eventlet's own:
:class:`PipeWaiter` (pipes registered once per transfer, no stale
wake-ups), :func:`await_exit` (a pidfd, not eventlet's 10 ms ``waitpid``
polling), :func:`offload` (run a function on a short-lived native thread
while the greenthread parks) and :func:`pace` (spawning never keeps
timers waiting).  No timer handed to
the hub is ever longer than :data:`patchguard._waiting.HUB_MAX` or
non-finite: callers loop on their own deadline.  Imported only once
eventlet is in the process.
"""

from __future__ import annotations

import os
import posix
from time import monotonic

import eventlet
from eventlet import hubs, patcher
from greenlet import getcurrent

from patchguard._timeouts import hub_seconds

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: Whether to wait on pidfds (private; tests turn it off to exercise the
#: back-off fallback).  Switched off for good on the first ENOSYS/EPERM.
_PIDFD = hasattr(os, "pidfd_open")
#: Longest pause of the waitpid back-off, in seconds.
_MAX_DELAY = 0.05
#: Longest stretch of back-to-back spawning before the hub gets a turn.
_SPAWN_BUDGET = 0.005
# When the current stretch of spawning started (None: the hub has run).
_burst_start: float | None = None

# ``posix`` holds the real system calls: eventlet patches attributes of
# ``os`` (read, write, waitpid...), never of ``posix``.
_write = posix.write


def green_sleep(seconds: float) -> None:
    """Sleep without blocking the hub.

    :param seconds: how long (finite).
    """
    eventlet.sleep(hub_seconds(seconds))


def _end_burst() -> None:
    global _burst_start
    _burst_start = None


def pace() -> None:
    """Let the hub run first if spawning has kept it busy too long.

    A spawn costs the hub thread ~1 ms (several on a loaded machine) and
    20 greenthreads woken together spawn in the same pass of the hub,
    before its timers fire.  Past a 5 ms budget, a spawner yields to the
    next pass: due timers and I/O run between its spawn and the others'.
    """
    global _burst_start
    while True:
        now = monotonic()
        if _burst_start is None:
            _burst_start = now
            # Fires at the hub's next pass, i.e. once the hub has run.
            hubs.get_hub().schedule_call_global(0, _end_burst)
            return
        if now - _burst_start <= _SPAWN_BUDGET:
            return
        eventlet.sleep(0)


def _noop() -> None:
    pass


class PipeWaiter:
    """Park a greenthread until one of its pipes is ready.

    The descriptors are registered with the hub once, for the whole
    transfer, not once per wait: a 1 MB transfer waits ~16 times (a 64 KB
    pipe buffer each), and adding and removing epoll listeners every time
    was a fifth of its CPU.  Not eventlet.green.select either: when
    several of its descriptors are ready in one poll, the hub has already
    collected all their callbacks and calls the stale ones after we
    resumed, switching a bogus value into whatever this greenthread waits
    on next (tpool.execute, a queue, a sleep of the caller's).  Here a
    callback is a no-op unless this waiter is parked.

    epoll is level-triggered: a ready descriptor fires at every pass of
    the hub.  The owner therefore reads every descriptor it is woken for
    before waiting again, and calls :meth:`close` before it parks on
    anything else (a native thread's result, the child's exit) and before
    it closes a descriptor (:meth:`drop`).

    :param read: descriptors to wait for input on.
    :param write: descriptors to wait for room on.
    """

    def __init__(self, read: list[int], write: list[int]) -> None:
        self._hub = hub = hubs.get_hub()
        self._current = getcurrent()
        self._parked = False
        self._listeners: dict[tuple[str, int], Any] = {}
        try:
            for fd in read:
                self._listeners[hub.READ, fd] = hub.add(
                    hub.READ, fd, self._wake, self._throw, _noop
                )
            for fd in write:
                self._listeners[hub.WRITE, fd] = hub.add(
                    hub.WRITE, fd, self._wake, self._throw, _noop
                )
        except BaseException:
            self.close()
            raise

    def _wake(self, *_: object) -> None:
        if self._parked:
            self._parked = False
            self._current.switch()

    def _throw(self, *exc: Any) -> None:
        if self._parked:
            self._parked = False
            self._current.throw(*exc)

    def drop(self, fd: int) -> None:
        """Stop waiting on ``fd`` (before it is closed).

        :param fd: a descriptor given to the constructor.
        """
        for key in [k for k in self._listeners if k[1] == fd]:
            self._hub.remove(self._listeners.pop(key))

    def wait(self, timeout: float | None) -> None:
        """Park until a descriptor is ready or ``timeout`` passes.

        :param timeout: seconds (any finite or huge value; the hub gets at
            most :data:`patchguard._waiting.HUB_MAX`), or ``None``.
        """
        hub = self._hub
        timer = None
        if timeout is not None:
            timer = hub.schedule_call_global(hub_seconds(timeout), self._wake)
        self._parked = True
        try:
            hub.switch()
        finally:
            self._parked = False
            if timer is not None:
                timer.cancel()

    def close(self) -> None:
        """Remove every listener (idempotent)."""
        while self._listeners:
            self._hub.remove(self._listeners.popitem()[1])


def offload(fn: Any, *args: Any, cancel: list[bool] | None = None) -> Any:
    """Run ``fn(*args)`` on a short-lived native thread; park meanwhile.

    The greenthread parks on a pipe (robust to spurious wake-ups: it
    loops on the result, unlike eventlet.tpool's event).  If it is killed
    while parked, ``cancel[0]`` is set and it keeps waiting for the worker
    to return before re-raising: the worker may be using descriptors the
    caller closes next.

    :param fn: the function; it must return soon once ``cancel[0]``.
    :param cancel: a one-item list the worker polls, if any.
    :returns: what ``fn`` returned.
    :raises BaseException: what ``fn`` raised.
    """
    # The worker owns the write end: closed here, its number could be
    # reused before the worker writes to it.
    box: list[tuple[bool, Any]] = []
    killed: BaseException | None = None
    rfd, wfd = os.pipe()

    def target() -> None:
        try:
            box.append((True, fn(*args)))
        except BaseException as exc:  # handed to the greenthread
            box.append((False, exc))
        finally:
            try:
                _write(wfd, b"x")
            except OSError:
                pass  # the greenthread is gone (killed while waiting)
            finally:
                os.close(wfd)

    try:
        worker = patcher.original("threading").Thread(
            target=target, name="patchguard-subproc-collect", daemon=True
        )
        try:
            worker.start()
        except BaseException:
            os.close(wfd)
            raise
        while not box:
            try:
                hubs.trampoline(rfd, read=True)
            except BaseException as exc:  # re-raised once the worker is done
                killed = killed or exc
                if cancel is not None:
                    cancel[0] = True
        worker.join()  # it has finished but for returning
    finally:
        os.close(rfd)
    if killed is not None:
        raise killed
    ok, value = box[0]
    if not ok:
        raise value
    return value


class _Deadline(Exception):
    """Raised into a trampoline when its timeout passes (private)."""


def await_exit(pid: int, timeout: float | None, delay: float) -> float:
    # Park the greenthread until ``pid`` exits (or ``timeout`` passes),
    # letting the hub run.  Returns the next back-off delay.
    global _PIDFD
    if _PIDFD:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            # Already reaped by someone else: poll() will notice.
            fd = -1
        except OSError:
            # ENOSYS (kernel < 5.3) or EPERM (seccomp): use the back-off.
            _PIDFD = False
            fd = -1
        if fd >= 0:
            try:
                hubs.trampoline(
                    fd,
                    read=True,
                    timeout=None if timeout is None else hub_seconds(timeout),
                    timeout_exc=_Deadline,
                )
            except _Deadline:
                pass
            finally:
                os.close(fd)
            return delay
    eventlet.sleep(
        delay if timeout is None else hub_seconds(min(delay, timeout))
    )
    return min(delay * 2, _MAX_DELAY)
