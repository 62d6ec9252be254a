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

from _emit import emit

emit(caught)
