"""patchguard: safe, honest eventlet monkey patching.

Importing :mod:`patchguard` decides nothing and imports no eventlet; it
only starts *watching* (thread starts and ``eventlet.monkey_patch`` calls)
so a later bootstrap can name what ran before it.  Import
:mod:`patchguard.bootstrap` to decide, or call :func:`apply`.
"""

from patchguard import _eventlet as _eventlet_watch
from patchguard import _threadwatch
from patchguard._apply import apply
from patchguard._errors import ConfigError, PatchOrderError
from patchguard._state import PatchState, state
from patchguard.warn import (
    DebuggerWarning,
    EarlyThreadWarning,
    ForkWarning,
    LatePatchWarning,
    PartialPatchWarning,
    PatchGuardWarning,
    StaleReferenceWarning,
    UnpatchedDriverWarning,
    WSGIHostWarning,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DebuggerWarning",
    "EarlyThreadWarning",
    "ForkWarning",
    "LatePatchWarning",
    "PartialPatchWarning",
    "PatchGuardWarning",
    "PatchOrderError",
    "PatchState",
    "StaleReferenceWarning",
    "UnpatchedDriverWarning",
    "WSGIHostWarning",
    "__version__",
    "apply",
    "state",
]

# Watching starts at the first ``import patchguard``: record who starts
# threads and who calls eventlet.monkey_patch, at no cost until they do.
_threadwatch.watch()
_eventlet_watch.watch()
