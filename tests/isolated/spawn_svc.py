"""Objects for ``patchguard check --spawn``: a small cotyledon service."""

import threading

import cotyledon


class Worker(cotyledon.Service):
    def __init__(self, worker_id, conf):
        super().__init__(worker_id)
        self.conf = conf

    def run(self):
        pass


def build_bad():
    """A worker whose configuration holds a lock (does not pickle)."""
    return Worker(0, {"lock": threading.Lock(), "workers": 2})


def build_good():
    """A worker whose configuration is plain data."""
    return Worker(0, {"workers": 2})


#: module-level locks: one a background thread holds, one nobody holds.
CACHE_LOCK = threading.Lock()
IDLE_LOCK = threading.Lock()


def build_held():
    """A worker built while a refresher thread holds ``CACHE_LOCK``."""
    held = threading.Event()

    def refresher():
        with CACHE_LOCK:
            held.set()
            threading.Event().wait()

    threading.Thread(target=refresher, name="refresher", daemon=True).start()
    held.wait(10)
    return Worker(0, {"lock": threading.Lock(), "workers": 2})
