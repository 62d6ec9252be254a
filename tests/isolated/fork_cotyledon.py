"""cotyledon's worker fork with a user thread alive: one ForkWarning.

The worker tells the manager to stop (SIGTERM) as soon as it runs.
"""

import patchguard.bootstrap  # noqa: F401
import os
import signal
import threading
import warnings

import cotyledon

from _emit import emit

stop = threading.Event()


def poller():
    stop.wait()


class Worker(cotyledon.Service):
    def run(self):
        os.kill(os.getppid(), signal.SIGTERM)


threading.Thread(target=poller, name="poller").start()
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    manager = cotyledon.ServiceManager()
    manager.add(Worker, workers=1)
    try:
        manager.run()
    except SystemExit:
        pass
stop.set()
emit(caught)
