"""The watchdog's life cycle in native mode, started by the bootstrap:
no eventlet/wrapt imported, one OS thread, start/stop idempotent, a new
thread in a forked child."""

import json
import os
import sys
import threading

import patchguard.bootstrap  # noqa: F401
import patchguard
from patchguard import watchdog


def watchdog_threads():
    return [t.name for t in threading.enumerate() if "watchdog" in t.name]


result = {
    "heavy": sorted(m for m in ("eventlet", "wrapt") if m in sys.modules),
    "running": watchdog.running(),
    "threads": watchdog_threads(),
}
watchdog.start(threshold=0.5, task_threshold=5)  # already running: kept
result["after_second_start"] = watchdog.running()
result["threads_after_second_start"] = watchdog_threads()
watchdog.stop()
watchdog.stop()
result["after_stop"] = watchdog.running()
result["threads_after_stop"] = watchdog_threads()
watchdog.start(task_threshold=2)
result["restarted"] = watchdog.running()
# A forked child (oslo.service workers) gets a watchdog thread of its own.
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    child = {"running": watchdog.running(), "threads": watchdog_threads()}
    os.write(write, json.dumps(child).encode())
    os._exit(0)
os.close(write)
os.waitpid(pid, 0)
result["child"] = json.loads(os.read(read, 4096))
watchdog.stop()
result["state_keys"] = sorted(patchguard.state().to_dict()["watchdog"])
print(json.dumps(result))
