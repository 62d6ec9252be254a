"""Real OS threads in a patched process, and what they may share.

In eventlet mode ``threading.Thread`` starts a *greenthread*: it only runs
while the thread that owns the hub yields.  Under Apache mod_wsgi or
uWSGI that thread spends its idle time blocked in the server's C code, so
a green AMQP heartbeat stops and the broker drops the connection
(oslo.messaging's ``heartbeat_in_pthread`` story).  Work that must keep
running whatever the hub does belongs in a real OS thread::

    from patchguard import threads

    beat = threads.native_thread(send_heartbeats, conn, name="heartbeat")

A native thread must never wait on a green primitive: a green lock or
event belongs to the hub's OS thread, and using it from another thread
raises ``greenlet.error: Cannot switch to a different thread`` or hangs.
The primitives here work from both sides:

* :class:`SharedRLock`, a recursive lock for native threads *and*
  greenthreads (the idea of oslo.log's pipe mutex).  In eventlet mode the
  bootstrap gives every :mod:`logging` handler and logging's module lock
  one of these, so logging from native threads is safe.
* :class:`Handoff`, a queue whose ``put`` never blocks and whose ``get``
  parks a greenthread on the hub instead of blocking it, to pass results
  from a native thread back to green code.

How a caller waits is chosen at each wait: a caller on an OS thread that
has an eventlet hub parks its greenlet and lets the hub run; any other
caller blocks natively.  A native thread wakes a parked greenthread
through a per-hub pipe the hub watches (as ``eventlet.tpool`` does), so
nothing green is ever touched from the wrong thread.  In native mode
there is no hub anywhere and all of this is plain ``threading``.
"""

from __future__ import annotations

import sys
from collections import deque
from queue import Empty
from typing import Generic, TypeVar

from patchguard._waiting import _allocate_lock, _me, _Waiter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType
    from typing import Any

__all__ = ["Handoff", "NativeThread", "SharedRLock", "native_thread"]

T = TypeVar("T")


class SharedRLock:
    """A recursive lock shared by native threads and greenthreads.

    The owner is the calling greenlet (a greenlet belongs to exactly one OS
    thread, so this identifies both the thread and the greenthread).  A
    greenthread that must wait parks on its hub, so the other greenthreads
    keep running; a native thread blocks natively.  Release hands the lock
    to the longest waiter (FIFO), waking it across threads if needed.

    It has the ``threading.RLock`` interface (``acquire(blocking,
    timeout)``, ``release()``, ``with``), plus the private methods
    ``threading.Condition`` and ``logging``'s fork handling use.
    """

    __slots__ = ("_guard", "_owner", "_count", "_waiters", "__weakref__")

    def __init__(self) -> None:
        # The guard is a native lock held only for a few bytecodes that
        # never yield, so taking it from a greenthread cannot stall the
        # hub for more than that.
        self._guard = _allocate_lock()
        self._owner: object = None
        self._count = 0
        self._waiters: deque[_Waiter] = deque()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Acquire the lock, recursively for its current owner.

        :param blocking: wait for the lock (``False``: try once).
        :param timeout: seconds to wait at most; ``-1`` waits forever.
        :returns: whether the lock was acquired.
        """
        me = _me()
        with self._guard:
            if self._owner is None:
                self._owner = me
                self._count = 1
                return True
            if self._owner == me:
                self._count += 1
                return True
            if not blocking:
                return False
            waiter = _Waiter(me)
            self._waiters.append(waiter)
        try:
            if waiter.wait(None if timeout < 0 else timeout):
                return True
        except BaseException:
            # Killed while waiting: leave the queue, or pass the lock on
            # if it was handed to us meanwhile.
            with self._guard:
                granted = waiter not in self._waiters
                if not granted:
                    self._waiters.remove(waiter)
            if granted:
                self.release()
            raise
        with self._guard:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
                return False
        return True  # handed to us just as the timeout fired

    def release(self) -> None:
        """Release one level of ownership.

        :raises RuntimeError: when the caller does not own the lock.
        """
        me = _me()
        with self._guard:
            if self._owner != me:
                raise RuntimeError("cannot release un-acquired lock")
            self._count -= 1
            if self._count:
                return
            if not self._waiters:
                self._owner = None
                return
            waiter = self._waiters.popleft()
            self._owner = waiter.key
            self._count = 1
        waiter.fire()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def locked(self) -> bool:
        """Return whether anyone holds the lock."""
        return self._owner is not None

    def _is_owned(self) -> bool:
        return self._owner == _me()

    def _release_save(self) -> tuple[int, object]:
        # threading.Condition.wait: drop every level, remember them.
        with self._guard:
            count, owner = self._count, self._owner
            self._count = 1
        self.release()
        return count, owner

    def _acquire_restore(self, saved: tuple[int, object]) -> None:
        self.acquire()
        self._count = saved[0]

    def _at_fork_reinit(self) -> None:
        # In a forked child only the forking thread survives; like the C
        # RLock, start over unlocked (logging calls this after fork).
        self._guard = _allocate_lock()
        self._owner = None
        self._count = 0
        self._waiters = deque()

    def __repr__(self) -> str:
        state = "unlocked" if self._owner is None else "locked"
        return (
            f"<{type(self).__name__} {state} count={self._count} "
            f"waiters={len(self._waiters)} at {id(self):#x}>"
        )


class Handoff(Generic[T]):
    """A FIFO from any thread to any thread that never blocks the hub.

    :meth:`put` never waits.  :meth:`get` returns the oldest value; when
    there is none it waits the way its caller should: a greenthread parks
    on its hub (the other greenthreads run on), a native thread blocks
    natively.  A value is handed straight to the longest-waiting getter.
    """

    def __init__(self) -> None:
        self._guard = _allocate_lock()
        self._items: deque[T] = deque()
        self._getters: deque[_Waiter] = deque()

    def put(self, item: T) -> None:
        """Add ``item``; callable from any thread or greenthread.

        :param item: the value to hand over.
        """
        with self._guard:
            if not self._getters:
                self._items.append(item)
                return
            waiter = self._getters.popleft()
            waiter.value = item
        waiter.fire()

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        """Remove and return the oldest value, waiting for one if needed.

        :param block: wait when empty (``False``: return or raise now).
        :param timeout: seconds to wait at most; ``None`` waits forever.
        :returns: the value.
        :raises queue.Empty: when nothing arrived in time.
        """
        with self._guard:
            if self._items:
                return self._items.popleft()
            if not block:
                raise Empty
            waiter = _Waiter()
            self._getters.append(waiter)
        try:
            if waiter.wait(timeout):
                return waiter.value  # type: ignore[no-any-return]
        except BaseException:
            with self._guard:
                handed = waiter not in self._getters
                if not handed:
                    self._getters.remove(waiter)
            if handed:
                self._give_back(waiter.value)
            raise
        with self._guard:
            if waiter in self._getters:
                self._getters.remove(waiter)
                raise Empty
        return waiter.value  # type: ignore[no-any-return]

    def get_nowait(self) -> T:
        """Return the oldest value now.

        :returns: the value.
        :raises queue.Empty: when there is none.
        """
        return self.get(block=False)

    def _give_back(self, item: T) -> None:
        # A getter died holding a value: it goes first to the next getter.
        with self._guard:
            if not self._getters:
                self._items.appendleft(item)
                return
            waiter = self._getters.popleft()
            waiter.value = item
        waiter.fire()

    def qsize(self) -> int:
        """Return the number of values waiting to be taken."""
        return len(self._items)

    def empty(self) -> bool:
        """Return whether no value is waiting."""
        return not self._items


class _Latch:
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


class NativeThread:
    """A started OS thread, as returned by :func:`native_thread`.

    :ivar thread: the underlying ``threading.Thread`` (from the unpatched
        ``threading`` module in eventlet mode).
    """

    def __init__(self, thread: Any, done: _Latch | None) -> None:
        self.thread = thread
        self._done = done

    @property
    def name(self) -> str:
        """The thread's name."""
        return str(self.thread.name)

    @property
    def ident(self) -> int | None:
        """The OS thread's ident (``threading.get_ident()`` inside it)."""
        ident: int | None = self.thread.ident
        return ident

    @property
    def daemon(self) -> bool:
        """Whether the process may exit without waiting for it."""
        return bool(self.thread.daemon)

    def is_alive(self) -> bool:
        """Return whether the thread is still running."""
        return bool(self.thread.is_alive())

    def join(self, timeout: float | None = None) -> None:
        """Wait until the thread ends or ``timeout`` seconds passed.

        From a greenthread this parks on the hub instead of blocking it.

        :param timeout: seconds, or ``None`` for no limit.
        """
        if self._done is None:
            self.thread.join(timeout)
            return
        if self._done.wait(timeout):
            # The target has returned; the OS thread is only unwinding,
            # so this native join takes microseconds.
            self.thread.join()

    def __repr__(self) -> str:
        alive = "alive" if self.is_alive() else "stopped"
        return f"<NativeThread {self.name!r} {alive}>"


def _threading_is_green() -> bool:
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


def native_thread(
    target: Callable[..., object],
    *args: Any,
    name: str | None = None,
    daemon: bool = True,
    **kwargs: Any,
) -> NativeThread:
    """Start ``target(*args, **kwargs)`` in a real OS thread.

    In eventlet mode the thread comes from the unpatched ``threading``
    module (``eventlet.patcher.original``), so it runs even while the hub
    is blocked; in native mode it is a plain ``threading.Thread``.  Code in
    it may log (the logging locks are :class:`SharedRLock`), use
    ``time.sleep``, and hand results to green code through a
    :class:`Handoff`; it must not wait on green locks, events or queues.

    :param target: the callable to run.
    :param args: positional arguments for ``target``.
    :param name: the thread's name (default: ``threading``'s).
    :param daemon: let the process exit without waiting for the thread.
        A non-daemon native thread is joined at interpreter exit.
    :param kwargs: keyword arguments for ``target``.
    :returns: the started :class:`NativeThread`.
    """
    global _atexit_armed
    if not _threading_is_green():
        import threading

        plain = threading.Thread(
            target=target, args=args, kwargs=kwargs, name=name, daemon=daemon
        )
        plain.start()
        return NativeThread(plain, None)

    from eventlet import patcher

    real_threading = patcher.original("threading")
    done = _Latch()

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

    found = _where.culprit(sys._getframe(1))
    if found is not None:
        thread.__dict__[_threadwatch.SITE_ATTR] = found
    if name is None:
        # threading names it after ``run``; name it after the target.
        label = getattr(target, "__name__", None)
        if isinstance(label, str):
            thread.name = f"{thread.name.split(' ')[0]} ({label})"
    handle = NativeThread(thread, done)
    if not daemon:
        _non_daemon[:] = [t for t in _non_daemon if t.is_alive()]
        _non_daemon.append(thread)
        if not _atexit_armed:
            import atexit

            atexit.register(_join_non_daemon)
            _atexit_armed = True
    thread.start()
    return handle
