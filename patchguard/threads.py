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

import os
import posix
import sys
import weakref
from collections import deque
from queue import Empty
from typing import Generic, TypeVar

from greenlet import getcurrent

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType, TracebackType
    from typing import Any

__all__ = ["Handoff", "NativeThread", "SharedRLock", "native_thread"]

T = TypeVar("T")


def _real_thread_module() -> ModuleType:
    # Bind the OS-level functions once.  After patching, ``_thread``'s
    # attributes are eventlet's; ``patcher.original`` re-imports the
    # builtin module, whose functions are the C ones.
    patcher = sys.modules.get("eventlet.patcher")
    if patcher is not None:
        real: ModuleType = patcher.original("_thread")
        return real
    import _thread

    return _thread


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
        if timeout is not None:
            timer = hub.schedule_call_global(max(timeout, 0.0), self._expire)
        try:
            while not self.fired and not self._expired:
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

    thread = real_threading.Thread(target=run, name=name, daemon=daemon)
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
