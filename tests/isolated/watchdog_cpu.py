"""A pure-Python CPU loop in a greenthread, then an idle hub.

PATCHGUARD_WATCHDOG=0.2: exactly one stall report whose stack ends at the
loop; the idle second after it adds nothing."""

import time

import patchguard.bootstrap  # noqa: F401
import watchdog_common

watchdog_common.collect()
import eventlet  # noqa: E402


def spin(seconds):
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:  # CPU-LOOP
        n += 1
    return n


eventlet.spawn(spin, 1.0).wait()  # SPAWN
eventlet.sleep(1.0)  # idle hub
watchdog_common.emit()
