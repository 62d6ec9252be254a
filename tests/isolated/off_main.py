"""Bootstrap (or, with argv "bare", a bare eventlet.monkey_patch()) from a
thread other than the main thread (mod_wsgi style).

On 3.11/3.12 joins hang after patching off-main, so the worker prints the
result and ends the process itself; the main thread just waits.
"""

import _thread
import os
import sys
import threading
import warnings

import patchguard  # noqa: F401

done = _thread.allocate_lock()
done.acquire()


def loader():
    warnings.simplefilter("always")
    with warnings.catch_warnings(record=True) as caught:
        if sys.argv[1:] == ["bare"]:
            import eventlet

            eventlet.monkey_patch()
        else:
            import patchguard.bootstrap  # noqa: F401
    from _emit import emit

    emit(caught)
    os._exit(0)


threading.Thread(target=loader, name="wsgi-loader").start()
done.acquire(timeout=30)
os._exit(3)
