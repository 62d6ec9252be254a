"""``no_stall`` in eventlet mode: a 0.6 s CPU loop fails the block with the
report, a green sleep passes, and the watchdog is off again after."""

import time

import patchguard.bootstrap  # noqa: F401
import watchdog_common

import eventlet  # noqa: E402
from patchguard import watchdog  # noqa: E402

result = {}
try:
    with watchdog.no_stall(0.1):
        end = time.monotonic() + 0.6
        while time.monotonic() < end:  # BLOCKS-IN-SCOPE
            pass
except watchdog.StallError as exc:
    result["error"] = str(exc)
    result["error_type"] = type(exc).__mro__[1].__name__
with watchdog.no_stall(0.1):
    eventlet.sleep(0.6)
result["running_after"] = watchdog.running()
watchdog_common.emit(**result)
