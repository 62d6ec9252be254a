"""A service entry point run under a debugger (debugpy, pdb)."""

import patchguard.bootstrap  # noqa: F401
import threading
import time

done = []
t = threading.Thread(target=lambda: done.append(time.sleep(0.05)))
t.start()
t.join(10)

from _emit import emit  # noqa: E402

emit(joined=not t.is_alive())
