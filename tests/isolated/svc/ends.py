"""A check target that ends the process at import, as argv[1] says.

``os_exit``, ``sys_exit``, ``keyboard``, ``base``, ``raise``, ``thread``
(a non-daemon thread that never ends), ``hang_native`` (sleeps an hour),
``spawn`` (starts ``sleep 3600``, then hangs), ``hang_green`` (sleeps
after a bare monkey_patch), ``kill`` (SIGKILLs itself: nothing can
report).  It prints its pid first (check sends that to stderr).
"""

import os
import signal
import subprocess
import sys
import threading
import time

how = sys.argv[1]
print("PID", os.getpid(), flush=True)


class Stop(BaseException):
    """A BaseException that is not an Exception."""


if how == "os_exit":
    os._exit(3)
elif how == "sys_exit":
    sys.exit(4)
elif how == "keyboard":
    raise KeyboardInterrupt
elif how == "base":
    raise Stop("stop here")
elif how == "raise":
    raise RuntimeError("db unreachable")
elif how == "thread":
    threading.Thread(
        target=threading.Event().wait, name="poller", daemon=False
    ).start()
elif how == "hang_native":
    time.sleep(3600)  # hang-native
elif how == "spawn":
    child = subprocess.Popen(["sleep", "3600"])
    print("CHILD", child.pid, flush=True)
    time.sleep(3600)
elif how == "hang_green":
    import eventlet

    eventlet.monkey_patch()
    time.sleep(3600)  # hang-green
elif how == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
