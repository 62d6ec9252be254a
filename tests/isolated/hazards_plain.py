"""Hazards with the default warning filters in force (for -W tests)."""

import threading
import time
from time import sleep  # noqa: F401

threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
import patchguard.bootstrap  # noqa: E402,F401

print("survived", flush=True)
