"""Native mode: eventlet stays unimported; a later monkey_patch raises."""

import patchguard.bootstrap  # noqa: F401
import sys

imported_after_bootstrap = "eventlet" in sys.modules
import eventlet  # noqa: E402

try:
    eventlet.monkey_patch()  # MARK: named in the error
except Exception as exc:  # noqa: BLE001
    error = f"{type(exc).__name__}: {exc}"
else:
    error = None
try:
    eventlet.patcher.monkey_patch(socket=True)
except Exception as exc:  # noqa: BLE001
    error2 = type(exc).__name__
else:
    error2 = None

from _emit import emit  # noqa: E402

emit(
    imported_after_bootstrap=imported_after_bootstrap,
    error=error,
    error2=error2,
)
