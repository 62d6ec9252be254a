"""The watchdog's life cycle in native mode, started by the bootstrap:
no eventlet/wrapt imported, one OS thread, start/stop idempotent."""

import json
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
watchdog.stop()
result["state_keys"] = sorted(patchguard.state().to_dict()["watchdog"])
print(json.dumps(result))
