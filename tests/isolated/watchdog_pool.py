"""A ``time.sleep(5)`` task in a concurrent.futures pool and in a futurist
pool (one worker each, two more tasks queued behind it).

PATCHGUARD_WATCHDOG_TASK=1: one stuck_task report per pool with the
sleeping line on top of its stack, and one ``saturated`` per pool."""

import time

import patchguard.bootstrap  # noqa: F401
import watchdog_common

watchdog_common.collect()
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

import futurist  # noqa: E402


def slow():
    time.sleep(5)  # SLOW-TASK


def quick():
    return 1


pools = [
    ThreadPoolExecutor(max_workers=1, thread_name_prefix="wd-cf"),
    futurist.ThreadPoolExecutor(max_workers=1),
]
futures = []
for pool in pools:
    futures.append(pool.submit(slow))
    futures += [pool.submit(quick) for _ in range(2)]
for future in futures:
    future.result()
time.sleep(0.5)
for pool in pools:
    pool.shutdown()
watchdog_common.emit()
