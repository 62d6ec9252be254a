"""PATCHGUARD_STRICT=1 with a thread running: refuse before patching."""

import threading
import time

import patchguard

threading.Thread(
    target=time.sleep, args=(5,), name="too-early", daemon=True
).start()  # MARK-start
try:
    patchguard.apply()
except patchguard.PatchOrderError as exc:
    error = str(exc)
else:
    error = None

from _emit import emit  # noqa: E402

emit(error=error)
