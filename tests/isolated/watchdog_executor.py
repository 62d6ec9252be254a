"""patchguard.executor under the watchdog: a ``time.sleep(3)`` task in a
one-worker executor with two tasks queued behind it.

PATCHGUARD_WATCHDOG_TASK=1: one stuck_task naming the executor and the
task, one saturated, and nothing reported twice through the futurist pool
underneath (native mode)."""

import time

import patchguard.bootstrap  # noqa: F401
import watchdog_common

watchdog_common.collect()
from patchguard import executor  # noqa: E402


def slow():
    time.sleep(3)  # SLOW-EXECUTOR-TASK


def quick():
    return 1


pool = executor.executor(1, name="wd-exec")
futures = [pool.submit(slow)] + [pool.submit(quick) for _ in range(2)]
for future in futures:
    future.result()
pool.shutdown()
watchdog_common.emit()
