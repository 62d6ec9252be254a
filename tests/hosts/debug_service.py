"""A service entry point, run under ``python -m debugpy --listen``.

First line: the bootstrap.  Then what a service does at start-up: logging
configured, a worker ``threading.Thread``, a background
``patchguard.threads.native_thread`` handing a value back through a
``Handoff``, both logging.  Prints the state and the results as one JSON
line and exits 0.
"""

# isort: off
import patchguard.bootstrap  # noqa: F401  (first, as in a real service)
# isort: on

import json
import logging
import sys
import threading

import patchguard
from patchguard import threads

logging.basicConfig(
    level=logging.INFO, stream=sys.stderr, format="%(threadName)s %(message)s"
)
LOG = logging.getLogger("service")
box = threads.Handoff()


def background():
    LOG.info("native thread running")
    box.put("from native thread")


def worker(results):
    LOG.info("worker running")
    results.append("from worker")


results = []
worker_thread = threading.Thread(target=worker, args=(results,))
worker_thread.start()
native = threads.native_thread(background, name="background")
results.append(box.get(timeout=10))
native.join(10)
worker_thread.join(10)
out = patchguard.state().to_dict()
out["results"] = sorted(results)
out["python"] = sys.version.split()[0]
print(json.dumps(out))
