"""eventlet mode: a native thread running its own hub, plus a greenthread.

The native thread must be named as a native thread; only the forking
thread's greenthread is a greenthread.
"""

import patchguard.bootstrap  # noqa: F401
import os
import time
import warnings

import eventlet

from patchguard import threads

running = True


def heartbeat_loop():
    # Patched time.sleep in a native thread: it gets a hub of its own.
    while running:
        time.sleep(0.01)


def periodic_task():
    while True:
        eventlet.sleep(0.05)


beat = threads.native_thread(heartbeat_loop, name="heartbeat")
eventlet.spawn(periodic_task)
eventlet.sleep(0.05)
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
running = False
beat.join(5)

from _emit import emit  # noqa: E402

emit(caught)
