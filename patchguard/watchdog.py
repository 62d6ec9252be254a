"""Watchdog: hub stalls and stuck pool tasks, reported while the service runs.

Everything else patchguard checks happens at start-up; the failures that
cost operators most happen later.  A greenthread that never yields (CPU
work, a C database driver, a native lock held across a green sleep)
stalls every other greenthread, AMQP heartbeats included; in native mode
a pool task that never returns fills the pool until the service stops
answering.

Turn it on with ``PATCHGUARD_WATCHDOG=<seconds>`` (the hub stall
threshold, e.g. ``0.1``; unset or ``off`` = disabled), read by
``import patchguard.bootstrap``, or call :func:`start`.  It runs in one
real OS thread (never a greenthread, never a signal: eventlet's SIGALRM
``hub_blocking_detection`` works only on the main thread, not under
mod_wsgi, and raises into running code), so it works off the main thread,
under mod_wsgi and uWSGI, on eventlet's default and asyncio hubs, and in
native mode.

* **Hub stall** (eventlet mode): the hub did not run for longer than the
  threshold.  One report: how long, the stack of the hub's OS thread at
  that moment, the greenthread that was running, where the other
  greenthreads wait.  Identical consecutive stalls are merged into one
  report with a count.
* **Stuck task** (both modes): a task ran longer than
  ``PATCHGUARD_WATCHDOG_TASK`` seconds (default 60) in a
  ``concurrent.futures`` or futurist thread pool or a
  :func:`patchguard.executor.executor`: reported once with its stack and
  its pool.  A pool whose workers are all busy while its queue
  grows for that long is reported once as *saturated*.

Reports go to the logger ``patchguard.watchdog`` at WARNING, are counted
in ``patchguard.state().watchdog`` and are passed to the callbacks
registered with :func:`on_stall`.  In tests, :func:`no_stall` (and the
pytest marker ``patchguard_no_stall``) fail when the hub stalls.
"""

from __future__ import annotations

import contextlib

from patchguard._decision.policy import (
    DEFAULT_TASK_THRESHOLD,
    WATCHDOG_TASK_VAR,
    WATCHDOG_VAR,
    parse_seconds,
)
from patchguard._watchdog import monitor as _monitor
from patchguard._watchdog.report import Report

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = [
    "DEFAULT_TASK_THRESHOLD",
    "Report",
    "StallError",
    "WATCHDOG_TASK_VAR",
    "WATCHDOG_VAR",
    "no_stall",
    "on_stall",
    "running",
    "start",
    "stop",
]


class StallError(AssertionError):
    """Raised by :func:`no_stall` when the hub stalled inside the block.

    :ivar reports: the stall reports.
    """

    def __init__(self, reports: list[Report]) -> None:
        self.reports = reports
        text = "\n\n".join(r.format() for r in reports)
        super().__init__(f"patchguard watchdog: the hub stalled:\n{text}")


def start(
    threshold: float | None = 0.1,
    task_threshold: float | None = None,
) -> None:
    """Start the watchdog (idempotent: a running one is kept as it is).

    Call it on the hub's thread in eventlet mode (the bootstrap does):
    that thread's hub is watched, and so is every hub started later.

    :param threshold: hub stall threshold in seconds, or ``None`` to watch
        thread pools only.  Ignored in native mode (there is no hub).
    :param task_threshold: stuck-task and saturation threshold in seconds
        (default :data:`DEFAULT_TASK_THRESHOLD`, 60).
    :raises ConfigError: on a threshold that is not a positive number of
        seconds (nothing is started).
    """
    hub = parse_seconds("threshold", threshold, off=True)
    task = parse_seconds(
        "task_threshold",
        DEFAULT_TASK_THRESHOLD if task_threshold is None else task_threshold,
    )
    assert task is not None
    if _monitor.current is not None:
        return
    _monitor.start(hub, task)


def stop() -> None:
    """Stop the watchdog and remove its hooks (idempotent).

    Pool hooks are removed and the hub stops stamping; reports already
    made stay counted.
    """
    _monitor.stop()


def running() -> tuple[float | None, float] | None:
    """Return ``(threshold, task_threshold)`` of the running watchdog.

    :returns: the thresholds in seconds, or ``None`` when it is off.
    """
    current = _monitor.current
    if current is None:
        return None
    return current.threshold, current.task_threshold


def on_stall(fn: Callable[[Report], object]) -> Callable[[Report], object]:
    """Register ``fn(report)`` to be called with every new report.

    Callbacks run in the watchdog's OS thread: they must not wait on green
    locks, events or queues.  An exception in one is logged and ignored.
    Usable as a decorator.

    :param fn: the callback; it receives a :class:`Report` (``kind`` is
        ``"stall"``, ``"stuck_task"`` or ``"saturated"``).
    :returns: ``fn``.
    """
    _monitor.callbacks.append(fn)
    return fn


@contextlib.contextmanager
def no_stall(threshold: float = 0.1) -> Iterator[list[Report]]:
    """Fail when the hub stalls for longer than ``threshold`` in the block.

    Starts the watchdog for the block when it is off (or runs with a
    larger threshold) and restores it after.  A stall is seen once it has
    lasted about 1.25 × ``threshold``, so one that ends within that long
    of the block's end can go unnoticed.  In native mode there is no hub
    and nothing can stall.

    :param threshold: seconds.
    :returns: a context manager yielding the list the block's reports are
        collected in.
    :raises StallError: at the end of the block, with the reports.
    :raises ConfigError: on a threshold that is not a positive number.
    """
    seconds = parse_seconds("threshold", threshold)
    assert seconds is not None
    before = running()
    restart = before is None or before[0] is None or before[0] > seconds
    if restart:
        stop()
        task = before[1] if before is not None else None
        start(seconds, task)
    found: list[Report] = []
    _monitor.scopes.append(found)
    try:
        yield found
    finally:
        _monitor.scopes.remove(found)
        if restart:
            stop()
            if before is not None:
                start(before[0], before[1])
    stalls = [r for r in found if r.kind == "stall"]
    if stalls:
        unique = list({id(r): r for r in stalls}.values())
        raise StallError(unique)
