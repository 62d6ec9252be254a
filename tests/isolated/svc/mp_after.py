"""multiprocessing objects made after the bootstrap (check target)."""

import patchguard.bootstrap  # noqa: F401

import multiprocessing  # noqa: E402
import queue  # noqa: E402
import threading  # noqa: E402

RESULTS = multiprocessing.Queue()
READY = threading.Event()  # green after patching: fine
JOBS = queue.Queue()  # fine
