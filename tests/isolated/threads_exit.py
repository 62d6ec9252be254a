"""A non-daemon native_thread still finishes when the main thread exits.

``argv[1]``: a file the thread writes 0.5 s after the main thread is done.
The mode comes from ``PATCHGUARD_MODE``.
"""

import patchguard.bootstrap  # noqa: F401

import sys
import time

from patchguard import threads


def finish(path):
    time.sleep(0.5)
    with open(path, "w") as f:
        f.write("finished")


threads.native_thread(finish, sys.argv[1], name="finisher", daemon=False)
print("main done", flush=True)
