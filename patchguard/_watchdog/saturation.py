"""Saturation episodes: a pool whose workers are all busy while work
waits, tracked over time and reported once per episode.

Shared by the pools hooked in :mod:`patchguard._watchdog.tasks` and the
executors read through :mod:`patchguard._watchdog.seam`.
"""

from __future__ import annotations

from typing import Any

from patchguard._watchdog.report import Report

#: ("pool"/"executor", id) → [monotonic time it became saturated, queue
#: size then, reported?] (private).
_saturated: dict[tuple[str, int], list[Any]] = {}


def reset() -> None:
    """Forget every episode (when the watchdog stops)."""
    _saturated.clear()


def check(
    key: tuple[str, int],
    full: bool,
    queued: int,
    label: str,
    limit: int,
    busy: int,
    threshold: float,
    now: float,
) -> list[Report]:
    """Track one pool's saturation episode; report it once.

    :param key: identifies the pool.
    :param full: whether all workers are busy with work queued, now.
    :param queued: tasks waiting now.
    :param label: the pool's name for the report.
    :param limit: the pool's size.
    :param busy: workers busy now.
    :param threshold: seconds the episode must last.
    :param now: ``time.monotonic()``.
    :returns: a report when the episode crosses the threshold (once).
    """
    if not full:
        _saturated.pop(key, None)
        return []
    episode = _saturated.get(key)
    if episode is None:
        _saturated[key] = [now, queued, False]
        return []
    since, first_queued, reported = episode
    if reported or now - since <= threshold or queued < first_queued:
        return []
    episode[2] = True
    return [
        Report(
            kind="saturated",
            duration=now - since,
            threshold=threshold,
            thread=f"{busy} worker(s)",
            running=f"{queued} task(s) queued",
            pool=label,
            detail=(
                f"all {limit} workers busy while the queue went from "
                f"{first_queued} to {queued} task(s)"
            ),
        )
    ]
