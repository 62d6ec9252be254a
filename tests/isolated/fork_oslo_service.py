"""oslo.service's (threading backend) worker fork with a user thread
alive: one ForkWarning naming it.  The worker stops the launcher."""

import patchguard.bootstrap  # noqa: F401
import os
import signal
import threading
import warnings

from oslo_config import cfg
from oslo_service import service

from _emit import emit

stop = threading.Event()


def poller():
    stop.wait()


class Worker(service.Service):
    def start(self):
        os.kill(os.getppid(), signal.SIGTERM)


threading.Thread(target=poller, name="poller").start()
conf = cfg.ConfigOpts()
conf([], project="pgtest")
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    launcher = service.launch(conf, Worker(), workers=1)
    try:
        launcher.wait()
    except SystemExit:
        pass
stop.set()
emit(caught)
