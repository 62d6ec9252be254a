"""Strict mode's per-test check: threads a test leaves running."""

from __future__ import annotations

import time

import pytest

from patchguard._detectors import leaks as _leaks

#: Seconds a test's threads get to finish after its teardown before they
#: count as leaked (a stopped-but-not-joined thread needs a moment).
LEAK_GRACE = 0.5


class LeakWatch:
    """Fail tests that leave threads running (registered in strict mode).

    Threads are counted from the start of the test's call phase, so a
    fixture's threads (a session server started during setup) never
    count, and checked after teardown, so a thread a fixture stops never
    counts either.  The check costs two cheap snapshots per test; only
    when they differ does it wait up to :data:`LEAK_GRACE` seconds for the
    new threads to finish.
    """

    def __init__(self) -> None:
        self._before: _leaks.Snapshot | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self) -> None:
        """Snapshot the threads just before the test body runs."""
        self._before = _leaks.snapshot()

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        """After teardown, fail the test for each thread it left running.

        :raises pytest.fail.Exception: naming each thread and its start
            site (pytest reports it as an error at teardown).
        """
        before, self._before = self._before, None
        if before is None:
            return
        found = _leaks.leaks(before)
        deadline = time.monotonic() + LEAK_GRACE
        while found and time.monotonic() < deadline:
            _leaks.pause()
            found = _leaks.leaks(before)
        if found:
            pytest.fail(
                f"patchguard: {item.nodeid} left {len(found)} thread(s) "
                f"running after teardown: {'; '.join(found)}. Fix: stop and "
                f"join them in the test or in a fixture's teardown.",
                pytrace=False,
            )
