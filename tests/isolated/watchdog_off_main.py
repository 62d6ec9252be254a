"""A hub started after the watchdog, in another OS thread: its stall is
reported too (the hub class's ``run`` is wrapped, also when inherited as
by the default epolls hub).  PATCHGUARD_WATCHDOG=0.2."""

import time

import patchguard.bootstrap  # noqa: F401
import watchdog_common

watchdog_common.collect()
import eventlet  # noqa: E402
from patchguard import threads  # noqa: E402


def spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:  # OFF-MAIN-LOOP
        pass


def other_thread():
    eventlet.spawn(spin, 1.0).wait()


threads.native_thread(other_thread, name="second-hub").join(10)
eventlet.sleep(0.3)
watchdog_common.emit()
