"""A trace function is active before the bootstrap (a debugger)."""

import sys
import warnings


def tracer(frame, event, arg):
    return None


sys.settrace(tracer)
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import patchguard.bootstrap  # noqa: F401
sys.settrace(None)

from _emit import emit  # noqa: E402

emit(caught)
