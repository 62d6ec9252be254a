"""The watchdog thread: one real OS thread that looks, reports, merges.

It is started with :func:`patchguard.threads.native_thread`, which in
eventlet mode takes ``threading`` from ``eventlet.patcher.original``: a
greenthread would stall with the hub it is meant to watch, and a signal
(eventlet's ``hub_blocking_detection`` uses SIGALRM) works only on the
main thread, not under mod_wsgi, and raises into the code it interrupts.
It waits on a lock from the unpatched ``_thread`` for the same reason.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

from patchguard import _state
from patchguard._watchdog import hub as _hub
from patchguard._watchdog import tasks as _tasks
from patchguard._watchdog.report import Report

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

LOG = logging.getLogger("patchguard.watchdog")
#: the thread's name, as it shows in thread dumps.
THREAD_NAME = "patchguard-watchdog"


class Running:
    """A started watchdog: its settings and its thread."""

    def __init__(
        self, threshold: float | None, task_threshold: float, hub: bool
    ) -> None:
        self.threshold = threshold
        self.task_threshold = task_threshold
        self.hub = hub
        candidates = [task_threshold / 4]
        if hub and threshold is not None:
            # Hub stalls are looked for exactly when a stamp would turn
            # late (``hub.next_due``); the tick only bounds how soon a hub
            # started later is first looked at.
            candidates.append(threshold / 2)
        #: longest wait between two looks (seconds).
        self.tick = min(candidates)
        self.stop_lock = _native_thread_module().allocate_lock()
        self.stop_lock.acquire()
        self.thread: Any = None
        self.ident: int | None = None


#: the watchdog now running, or None (private).
current: Running | None = None
#: callbacks registered with ``on_stall`` (private; tests reset).
callbacks: list[Callable[[Report], object]] = []
#: lists collecting reports for open ``no_stall`` blocks.
scopes: list[list[Report]] = []
#: the last stall report, for merging identical consecutive ones.
_last_stall: Report | None = None


def _native_thread_module() -> Any:
    if "eventlet" in sys.modules:
        from eventlet import patcher

        return patcher.original("_thread")
    import _thread

    return _thread


def dispatch(report: Report) -> None:
    """Count, merge, log and pass on one report (watchdog thread)."""
    global _last_stall
    counts = _state.watchdog_counts
    if report.kind == "stall":
        counts["stalls"] += 1
        last = _last_stall
        if last is not None and last.signature() == report.signature():
            last.count += 1
            last.duration = max(last.duration, report.duration)
            for scope in scopes:
                scope.append(last)
            # One line per order of magnitude keeps a repeating stall
            # visible without flooding the log (gevent#2002).
            if str(last.count).strip("0") == "1":
                LOG.warning("patchguard watchdog: %s", last.headline())
            return
        _last_stall = report
        counts["stall_reports"] += 1
    elif report.kind == "stuck_task":
        counts["stuck_tasks"] += 1
    else:
        counts["saturated"] += 1
    for scope in scopes:
        scope.append(report)
    LOG.warning("patchguard watchdog: %s", report.format())
    for callback in list(callbacks):
        try:
            callback(report)
        except Exception:
            LOG.exception("patchguard watchdog: on_stall callback failed")


def _loop(running: Running) -> None:
    running.ident = _native_thread_module().get_ident()
    wait = running.tick
    while not running.stop_lock.acquire(True, wait):
        now = time.monotonic()
        found: list[Report] = []
        if running.hub and running.threshold is not None:
            found.extend(_hub.check(running.threshold, now))
        found.extend(_tasks.check(running.task_threshold, now))
        for report in found:
            dispatch(report)
        wait = running.tick
        if running.hub and running.threshold is not None:
            due = _hub.next_due(running.threshold, time.monotonic())
            wait = min(wait, due)


def start(
    threshold: float | None, task_threshold: float, armed: bool = True
) -> Running:
    """Hook pools, watch the hub (eventlet mode), start the thread.

    :param threshold: hub stall threshold in seconds, or ``None`` to
        watch pools only.
    :param task_threshold: stuck-task threshold in seconds.
    :param armed: see :func:`patchguard._watchdog.hub.watch_here`.
    :returns: the running watchdog.
    """
    global current
    from patchguard import threads

    if _uwsgi_master():
        # uWSGI forks its workers from C after loading the app here; a
        # thread started now leaves its thread state behind in every
        # worker, where ``sys._current_frames()`` then crashes
        # (segfault seen with uWSGI 2.0.31, CPython 3.11).  The workers
        # start their own watchdog after the fork instead.
        running = Running(threshold, task_threshold, False)
        current = running
        _arm_uwsgi_postfork()
        return running
    hub = threshold is not None and _green()
    if hub:
        assert threshold is not None
        hub = _hub.watch_here(threshold, armed)
    _tasks.hook()
    running = Running(threshold, task_threshold, hub)
    current = running
    _arm_fork()
    running.thread = threads.native_thread(
        _loop, running, name=THREAD_NAME, daemon=True
    )
    return running


_fork_armed = False


def _arm_fork() -> None:
    global _fork_armed
    if not _fork_armed and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork)
        _fork_armed = True


_uwsgi_armed = False


def _arm_uwsgi_postfork() -> None:
    # uWSGI forks from C without Python's at-fork hooks; its own
    # ``postfork`` decorator chains hooks run in each new worker.
    global _uwsgi_armed
    if _uwsgi_armed:
        return
    import importlib

    try:
        postfork = importlib.import_module("uwsgidecorators").postfork
    except ImportError:
        LOG.warning(
            "patchguard watchdog: uwsgidecorators is missing, so the "
            "watchdog cannot start in uWSGI's workers; use --lazy-apps"
        )
        return
    postfork(_after_fork)
    _uwsgi_armed = True


def _detach() -> Running | None:
    """Forget the running watchdog and remove its hooks; return it."""
    global current, _last_stall
    running, current = current, None
    if running is not None:
        _hub.unwatch_all()
        _tasks.unhook()
        _last_stall = None
    return running


def _after_fork() -> None:
    # A forked child (uWSGI and oslo.service workers, multiprocessing's
    # fork) has no watchdog thread: only the forking thread survives.
    # Start a new one, watching the child's hub, with the same settings.
    running = _detach()
    if running is not None:
        start(running.threshold, running.task_threshold, armed=False)


def stop() -> None:
    """Stop the thread and unhook everything (idempotent)."""
    running = _detach()
    if running is None:
        return
    running.stop_lock.release()
    if running.thread is not None and (
        running.ident != _native_thread_module().get_ident()
    ):
        running.thread.join(10)


def _uwsgi_master() -> bool:
    uwsgi = sys.modules.get("uwsgi")
    worker_id = getattr(uwsgi, "worker_id", None)
    if worker_id is None:
        return False
    try:
        return int(worker_id()) == 0
    except Exception:
        return False


def _green() -> bool:
    mode = _state.state().mode
    if mode == "native" or "eventlet.hubs" not in sys.modules:
        return False
    return mode == "eventlet" or bool(_state.patched_options())
