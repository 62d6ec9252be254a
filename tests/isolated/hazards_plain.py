"""One hazard (argv[1]) under the default warning filters, for -W tests.

Prints "survived" only if no warning was turned into an exception.
"""

import sys
import threading
import time
import types
from time import sleep  # noqa: F401  (the "stale" hazard)

kind = sys.argv[1]
if kind == "early":
    threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
elif kind == "debugger":
    sys.settrace(lambda *a: None)
elif kind == "wsgi":
    host = types.ModuleType("mod_wsgi")
    host.process_group = ""
    sys.modules["mod_wsgi"] = host

import patchguard.bootstrap  # noqa: F401

sys.settrace(None)
if kind == "driver":
    sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/fakes")
    import MySQLdb  # noqa: F401
elif kind == "late":
    import eventlet

    eventlet.monkey_patch(thread=True)
elif kind == "fork":
    import os

    import eventlet

    eventlet.spawn(eventlet.sleep, 5)
    eventlet.sleep(0)
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
print("survived", flush=True)
