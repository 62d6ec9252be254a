"""An invalid PATCHGUARD_WATCHDOG(_TASK) refuses the bootstrap before
anything patches."""

import json
import sys

try:
    import patchguard.bootstrap  # noqa: F401
except ValueError as exc:
    from patchguard import _state

    print(
        json.dumps(
            {
                "error": str(exc),
                "type": type(exc).__name__,
                "patched": sorted(_state.patched_options()),
                "eventlet": "eventlet" in sys.modules,
                "mode": _state.state().mode,
            }
        )
    )
else:
    print(json.dumps({"error": None}))
