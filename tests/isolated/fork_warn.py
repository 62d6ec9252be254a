"""fork() with a greenthread running: one warning naming it."""

import patchguard.bootstrap  # noqa: F401
import os
import warnings

import eventlet


def periodic_task():
    while True:
        eventlet.sleep(0.05)


eventlet.spawn(periodic_task)
eventlet.sleep(0.01)
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)

from _emit import emit  # noqa: E402

emit(caught)
