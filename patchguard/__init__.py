"""patchguard: safe, honest eventlet monkey patching.

Importing :mod:`patchguard` decides nothing and imports no eventlet; it
only starts *watching* (thread starts and ``eventlet.monkey_patch`` calls)
so a later bootstrap can name what ran before it.  Import
:mod:`patchguard.bootstrap` to decide, or call :func:`apply`.
"""

from __future__ import annotations

import sys as _sys

from patchguard._decision.apply import apply
from patchguard._errors import ConfigError, PatchOrderError
from patchguard._hooks import importhook as _importhook
from patchguard._hooks import threadwatch as _threadwatch
from patchguard._state import PatchState, state

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType

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


def __getattr__(name: str) -> object:
    # The warning classes load on first use (``-W ignore::patchguard.X``,
    # ``from patchguard import X``): the native bootstrap never needs them.
    if name.endswith("Warning") and name in __all__:
        from patchguard import warn

        return getattr(warn, name)
    raise AttributeError(f"module 'patchguard' has no attribute {name!r}")


def _watch_eventlet(eventlet: ModuleType) -> None:
    from patchguard._hooks import eventlet as _eventlet

    _eventlet.install(eventlet)


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
_importhook.when_imported("eventlet", _watch_eventlet)
# ``-W error::patchguard.X`` and PYTHONWARNINGS entries naming patchguard
# are dropped by CPython at start-up for an installed package (parsed
# before site-packages is importable): install them now.  The scan is a
# substring test on a list that is almost always empty.
if any("patchguard." in _option for _option in _sys.warnoptions):
    from patchguard import warn as _warn

    _warn.honour_warnoptions(_sys.warnoptions)
