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
