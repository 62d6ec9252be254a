"""Bootstrap (import, or apply(**argv[1] as JSON)) and print the state.

Prints one JSON line: ``PatchState.to_dict()`` plus ``eventlet_imported``
and the warnings emitted during the bootstrap.
"""

import sys
import warnings

warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    if len(sys.argv) > 1:
        import json as _json

        import patchguard

        patchguard.apply(**_json.loads(sys.argv[1]))
    else:
        import patchguard.bootstrap  # noqa: F401

import json  # noqa: E402

import patchguard  # noqa: E402

out = patchguard.state().to_dict()
out["eventlet_imported"] = "eventlet" in sys.modules
out["warnings"] = [
    {
        "category": w.category.__name__,
        "message": str(w.message),
        "filename": w.filename,
        "lineno": w.lineno,
    }
    for w in caught
    if issubclass(w.category, patchguard.PatchGuardWarning)
]
print(json.dumps(out))
