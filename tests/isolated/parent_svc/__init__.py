"""A service package whose top-level __init__ starts a thread: Python runs
it before parent_svc/cmd/__init__.py, where the bootstrap is first."""

import threading
import time

threading.Thread(
    target=time.sleep, args=(30,), daemon=True, name="parent-thread"
).start()
