"""The Eventlet Best Practices deadlock: a native lock held across a green
sleep.  Run through ``python -m patchguard run`` with
PATCHGUARD_PATCH=all,-thread; a watchdog bounds the hang."""

import faulthandler
import sys
import threading
import time

import eventlet

faulthandler.dump_traceback_later(4, exit=True)
print("started", flush=True)
sys.stderr.flush()
lock = threading.Lock()


def worker(n):
    with lock:
        time.sleep(0.1)


pool = eventlet.GreenPool()
for n in range(2):
    pool.spawn(worker, n)
pool.waitall()
print("finished", flush=True)
