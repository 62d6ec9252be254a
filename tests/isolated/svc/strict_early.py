"""Starts a thread, then bootstraps (check target; PATCHGUARD_STRICT=1
makes the bootstrap refuse to patch)."""

import threading
import time

threading.Thread(target=time.sleep, args=(30,), daemon=True).start()

import patchguard.bootstrap  # noqa: E402,F401 - BOOTSTRAP-LINE
