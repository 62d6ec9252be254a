"""The Eventlet Best Practices deadlock under the watchdog.

Run with PATCHGUARD_PATCH=all,-thread (monkey_patch(thread=False)) and
PATCHGUARD_WATCHDOG=0.2: worker 0 holds a native lock across a green
sleep, worker 1 blocks the OS thread on it.  The watchdog must report the
stall before faulthandler ends the hung process."""

import faulthandler
import sys

import patchguard.bootstrap  # noqa: F401
import watchdog_common

watchdog_common.collect()
import threading  # noqa: E402
import time  # noqa: E402

import eventlet  # noqa: E402

faulthandler.dump_traceback_later(5, exit=True)
lock = threading.Lock()


def worker(n):
    with lock:  # WAITS-FOR-LOCK
        time.sleep(0.5)  # HOLDS-LOCK


print("started", flush=True)
sys.stderr.flush()
pool = eventlet.GreenPool()
for n in range(2):
    pool.spawn(worker, n)  # SPAWN
pool.waitall()
print("finished", flush=True)
