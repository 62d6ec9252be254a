"""patchguard's own executors, read through their seam.

:mod:`patchguard.executor` registers every executor and offers
``executors()`` and ``PoolExecutor.snapshot()`` for monitors: running
tasks with their start time, thread and greenlet, and whether work waits
behind a full pool.  Reading it never blocks the pool.  Its native pool
runs on futurist, whose tasks :mod:`patchguard._watchdog.tasks` would
otherwise see as anonymous wrappers: they are reported here once, under
the executor's name.
"""

from __future__ import annotations

from typing import Any

from patchguard._watchdog import saturation as _saturation
from patchguard._watchdog.report import Report, capture, thread_names

#: patchguard executor tasks already reported: (executor id, task start,
#: thread) of the tasks still running.
_reported: set[tuple[int, float, int]] = set()


def check(
    seam: Any,
    threshold: float,
    now: float,
    frames: dict[int, Any],
    owned: set[int],
) -> list[Report]:
    """Stuck tasks and saturation of :mod:`patchguard.executor` pools.

    :param seam: the imported :mod:`patchguard.executor`.
    :param threshold: seconds.
    :param now: ``time.monotonic()``.
    :param frames: ``sys._current_frames()`` taken for this look.
    :param owned: filled with the ids of the futurist pools underneath.
    :returns: the new reports.
    """
    fresh = []
    still: set[tuple[int, float, int]] = set()
    for ex in seam.executors():
        # The futurist pool underneath is reported here, not twice.
        owned.add(id(getattr(getattr(ex, "_pool", None), "_pool", None)))
        snap = ex.snapshot()
        if snap.shutdown and not snap.running:
            continue
        label = f"patchguard.executor {snap.name!r} ({snap.kind})"
        for task in snap.running:
            key = (id(ex), task.started, task.thread)
            still.add(key)
            age = now - task.started
            if key in _reported or age <= threshold:
                continue
            _reported.add(key)
            worker = task.worker
            frame = getattr(worker, "gr_frame", None)
            if frame is None:
                frame = frames.get(task.thread)
            fresh.append(
                Report(
                    kind="stuck_task",
                    duration=age,
                    threshold=threshold,
                    thread=thread_names().get(task.thread, "?")
                    + f" ({task.thread})",
                    stack=capture(frame),
                    running=f"{task.task}()",
                    pool=label,
                )
            )
        fresh.extend(
            _saturation.check(
                ("executor", id(ex)),
                snap.saturated,
                snap.statistics.queued,
                label,
                snap.max_workers,
                snap.statistics.running,
                threshold,
                now,
            )
        )
    _reported.intersection_update(still)
    return fresh


def reset() -> None:
    """Forget what was reported (when the watchdog stops)."""
    _reported.clear()
