"""Threads running before the bootstrap: watched, unwatched and hidden."""

import _thread
import threading
import time

stop = []


def unwatched_worker():
    while not stop:
        time.sleep(0.01)


# Started before patchguard is imported: no start site is known.
threading.Thread(
    target=unwatched_worker, name="unwatched", daemon=True
).start()

import patchguard  # noqa: F401  (watching starts here)
import early_mod  # noqa: F401  (starts 'early-bird' at import)


def hidden():
    # Like a debugger's thread: not registered with threading.
    while not stop:
        time.sleep(0.01)


_thread.start_new_thread(hidden, ())
time.sleep(0.05)

import warnings  # noqa: E402

warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import patchguard.bootstrap  # noqa: F401

from _emit import emit  # noqa: E402

emit(caught)
