"""Stale natives in containers, classes, defaults, closures; a pre-patch
threading.local and multiprocessing lock; one module under two names."""

import multiprocessing
import queue
import sys

import stale_lib

sys.modules["stale_alias"] = stale_lib  # reachable under a second name
MP_LOCK = multiprocessing.Lock()
JOBS = queue.Queue()  # not stale: no false positive

import warnings  # noqa: E402

warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import patchguard.bootstrap  # noqa: F401

from _emit import emit  # noqa: E402

emit(caught)
