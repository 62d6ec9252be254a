"""The two pools futurist cannot give a patched process.

:mod:`patchguard.executor` runs native-mode work on futurist's
``ThreadPoolExecutor``.  An eventlet-mode process needs two more kinds:

* :class:`GreenPool`, for callers on the hub's thread: greenthreads from
  ``eventlet.GreenPool``.  futurist's own ``GreenThreadPoolExecutor`` and
  ``GreenFuture`` emit a ``DeprecationWarning`` on every construction since
  futurist 3.x ("Eventlet support is deprecated"), so they are not used.
  ``GreenPool.spawn`` blocks the caller when the pool is full, which
  ``Executor.submit`` must never do: work beyond ``max_workers`` waits in
  a queue here and a worker greenthread takes it when one is free.
* :class:`NativePool`, for callers on a native OS thread of a patched
  process: futurist's workers, queue and futures are built from the
  patched ``threading``/``queue`` modules there (green), so this pool
  uses real OS threads (:func:`patchguard.threads.native_thread`), the C
  ``SimpleQueue`` and futures whose condition comes from the unpatched
  ``threading`` (``eventlet.patcher.original``): a native thread never
  waits on a green primitive.

All three pools here (with :class:`FuturistPool`, the native-mode one) run
zero-argument callables and complete the futures they hand out the way
``concurrent.futures`` does.
"""

from __future__ import annotations

import sys
from collections import deque
from concurrent.futures import Future
from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


class _Item:
    """A queued call and the future it completes."""

    __slots__ = ("future", "call")

    def __init__(self, future: Future[Any], call: Callable[[], Any]) -> None:
        self.future = future
        self.call = call

    def run(self) -> None:
        if not self.future.set_running_or_notify_cancel():
            return
        try:
            result = self.call()
        except BaseException as exc:
            # As concurrent.futures does: even SystemExit or
            # KeyboardInterrupt only fails this future; the worker lives
            # on.  (futurist's WorkItem re-raises SystemExit, which kills
            # its worker thread and strands the queue behind it.)
            self.future.set_exception(exc)
        else:
            self.future.set_result(result)


def _futurist() -> Any:
    """Import futurist without letting it load eventlet.

    Imported lazily: native ``import patchguard.bootstrap`` never pays for
    futurist (or debtcollector, which it imports).  futurist's ``_utils``
    runs ``import eventlet`` at import time only to learn whether its
    (deprecated) green executors could work; in a native process that
    would load eventlet and print its deprecation warning.  So while
    eventlet is not loaded, the import sees it as missing (a ``None`` in
    ``sys.modules``, the documented way to block an import), and futurist
    records "no eventlet".  Nothing is filtered: the warning's cause is
    avoided.
    """
    if "futurist" in sys.modules or "eventlet" in sys.modules:
        import futurist

        return futurist
    sys.modules["eventlet"] = None  # type: ignore[assignment]
    try:
        import futurist
    finally:
        if "eventlet" in sys.modules and sys.modules["eventlet"] is None:
            del sys.modules["eventlet"]
    return futurist


class FuturistPool:
    """futurist's ``ThreadPoolExecutor`` running :class:`_Item` calls.

    The future handed out is a plain ``concurrent.futures.Future`` that
    :class:`_Item` completes, so failures, cancellation and ``SystemExit``
    behave exactly as in the other pools (and the stdlib); futurist's own
    future for the wrapper is dropped.
    """

    def __init__(self, size: int) -> None:
        self._pool = _futurist().ThreadPoolExecutor(size)

    def submit(self, call: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        self._pool.submit(_Item(future, call).run)
        return future

    def shutdown(self, wait: bool) -> None:
        self._pool.shutdown(wait)


class GreenPool:
    """Greenthreads on the hub's thread, at most ``size`` at a time.

    Only ever used from the hub's OS thread (the executor checks), so the
    queue needs no lock: greenthreads switch only where they wait.
    """

    def __init__(self, size: int) -> None:
        import eventlet

        self._pool = eventlet.GreenPool(size)
        self._size = size
        self._queue: deque[_Item] = deque()

    def submit(self, call: Callable[[], Any]) -> Future[Any]:
        # concurrent.futures.Future's condition comes from the patched
        # threading module here, so waiting on it parks the greenthread.
        future: Future[Any] = Future()
        self._queue.append(_Item(future, call))
        if self._pool.running() < self._size:
            self._pool.spawn_n(self._work)
        return future

    def _work(self) -> None:
        while self._queue:
            self._queue.popleft().run()

    def shutdown(self, wait: bool) -> None:
        if wait:
            self._pool.waitall()


class _NativeFuture(Future[Any]):
    """A future whose waits block natively (unpatched ``threading``)."""

    def __init__(self, condition_type: Any) -> None:
        super().__init__()
        self._condition = condition_type()


class NativePool:
    """Real OS threads in a patched process, at most ``size`` of them.

    Workers start on demand (as ``concurrent.futures.ThreadPoolExecutor``
    does) and stop at :meth:`shutdown`.
    """

    def __init__(self, size: int, name: str) -> None:
        import _queue

        from eventlet import patcher

        self._threading = patcher.original("threading")
        self._guard = self._threading.Lock()
        self._size = size
        self._name = name
        self._queue: Any = _queue.SimpleQueue()
        self._workers: list[Any] = []
        self._idle = 0

    def submit(self, call: Callable[[], Any]) -> Future[Any]:
        future = _NativeFuture(self._threading.Condition)
        item = _Item(future, call)
        with self._guard:
            spawn = not self._idle and len(self._workers) < self._size
            if spawn:
                from patchguard import threads

                self._workers.append(
                    threads.native_thread(
                        self._work,
                        name=f"{self._name}_{len(self._workers)}",
                    )
                )
        self._queue.put(item)
        return future

    def _work(self) -> None:
        while True:
            with self._guard:
                self._idle += 1
            item = self._queue.get()
            with self._guard:
                self._idle -= 1
            if item is None:
                return
            item.run()
            del item

    def shutdown(self, wait: bool) -> None:
        with self._guard:
            workers = list(self._workers)
        for _ in workers:
            self._queue.put(None)
        if wait:
            for worker in workers:
                worker.join()
