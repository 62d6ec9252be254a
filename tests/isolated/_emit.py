"""Shared by scenario scripts: print the state and warnings as JSON."""

import json
import sys


def emit(caught=(), **extra):
    """Print one JSON line: state, eventlet imported, warnings, extras."""
    import patchguard

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
    out.update(extra)
    print(json.dumps(out), flush=True)
