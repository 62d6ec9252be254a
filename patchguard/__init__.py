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
from patchguard._hooks import eventlet_import as _eventlet_import
from patchguard._hooks import fork as _fork
from patchguard._hooks import importhook as _importhook
from patchguard._hooks import oslo_backend as _oslo_backend
from patchguard._hooks import threadwatch as _threadwatch
from patchguard._state import PatchState, state

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType

    from patchguard.warn import (
        BackendMismatchWarning,
        DebuggerWarning,
        EarlyThreadWarning,
        EventletImportWarning,
        Finding,
        ForkWarning,
        LatePatchWarning,
        PartialPatchWarning,
        PatchGuardWarning,
        SpawnWarning,
        StaleReferenceWarning,
        UnpatchedDriverWarning,
        WSGIHostWarning,
    )


def spawn_ready(obj: object, name: str = "obj") -> list[Finding]:
    """Name every attribute path of ``obj`` that does not pickle.

    oslo.service's threading backend starts workers with ``spawn`` only
    when the service and its configuration pickle; otherwise it logs one
    line and forks (oslo.service 7a8adac, bug 2142122), and Python 3.14
    no longer forks by default on Linux.

    :param obj: the object a spawned worker would receive (a service, a
        ``ConfigOpts``).
    :param name: the name the paths start with (``"service"``).
    :returns: one :class:`~patchguard.SpawnWarning` finding per path that
        does not pickle, with the reason
        (``service.conf._namespace._parsers[0]: cannot pickle
        '_io.TextIOWrapper' object``); ``[]`` when ``obj`` pickles.
    """
    from patchguard._detectors import spawn as _spawn

    return _spawn.spawn_ready(obj, name)


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
    "BackendMismatchWarning",
    "ConfigError",
    "DebuggerWarning",
    "EarlyThreadWarning",
    "EventletImportWarning",
    "ForkWarning",
    "LatePatchWarning",
    "PartialPatchWarning",
    "PatchGuardWarning",
    "PatchOrderError",
    "PatchState",
    "SpawnWarning",
    "StaleReferenceWarning",
    "UnpatchedDriverWarning",
    "WSGIHostWarning",
    "__version__",
    "apply",
    "spawn_ready",
    "state",
]

# Watching starts at the first ``import patchguard``: record who starts
# threads and who calls eventlet.monkey_patch, at no cost until they do.
_threadwatch.watch()
_importhook.when_imported("eventlet", _watch_eventlet)
# Also from here, in every mode and before any decision: what a fork
# strands, who imported eventlet first, who selected oslo.service's
# backend.  Each costs nothing until it happens.
_fork.watch()
_eventlet_import.watch()
_oslo_backend.watch()

# ``-W error::patchguard.X`` and PYTHONWARNINGS entries naming patchguard
# are dropped by CPython at start-up for an installed package (parsed
# before site-packages is importable): install them now.  The scan is a
# substring test on a list that is almost always empty.
if any("patchguard." in _option for _option in _sys.warnoptions):
    from patchguard import warn as _warn

    _warn.honour_warnoptions(_sys.warnoptions)
