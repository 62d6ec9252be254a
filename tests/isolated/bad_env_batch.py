"""For each environment in argv[1] (JSON list): apply() must raise
ConfigError and leave the process untouched (nothing patched, no eventlet
imported, mode unset)."""

import json
import os
import sys

import patchguard
from patchguard import _state

results = []
for environ in json.loads(sys.argv[1]):
    for key in [k for k in os.environ if k.startswith("PATCHGUARD_")]:
        del os.environ[key]
    os.environ.pop("DISABLE_EVENTLET_PATCHING", None)
    os.environ.pop("OS_NOVA_DISABLE_EVENTLET_PATCHING", None)
    os.environ.update(environ)
    try:
        patchguard.apply()
    except patchguard.ConfigError as exc:
        error = str(exc)
    else:
        error = None
    results.append(
        {
            "error": error,
            "mode": patchguard.state().mode,
            "eventlet": "eventlet" in sys.modules,
            "patched": sorted(_state.patched_options()),
        }
    )
print(json.dumps({"results": results}))
