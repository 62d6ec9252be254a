"""Detect a debugger attached to (or launching) this process.

Debuggers start their own OS threads before user code runs, often hidden
from ``threading.enumerate()``; patching threads under them gives
``greenlet.error`` and hangs.  Detection is layered because no single
signal works everywhere: debugpy is invisible to ``sys.gettrace()`` on
3.12+ (it uses ``sys.monitoring``), pdb only installs a trace function,
and an IDE may launch the process with markers in the environment.
Nothing is imported here.
"""

from __future__ import annotations

import os
import sys

# Tracers that are not debuggers: coverage measurement must not flip a
# test run to native mode.
_NOT_DEBUGGERS = ("coverage",)


def _classify_tracer(tracer: object) -> str | None:
    owner = getattr(tracer, "__self__", tracer)
    module = getattr(type(owner), "__module__", "") or ""
    if module == "builtins":
        module = getattr(tracer, "__module__", "") or ""
    top = module.split(".")[0]
    if top in _NOT_DEBUGGERS:
        return None
    if top in ("pdb", "bdb"):
        return "pdb"
    if "pydevd" in module:
        return "pydevd"
    if top == "debugpy":
        return "debugpy"
    return "trace"


def _monitoring_tool() -> str | None:
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is None:
        return None
    name = monitoring.get_tool(monitoring.DEBUGGER_ID)
    if not name:
        return None
    lowered = str(name).lower()
    for known in ("debugpy", "pydevd", "pdb"):
        if known in lowered:
            return known
    return str(name)


def detect() -> str | None:
    """Return the name of the active debugger, or ``None``.

    :returns: ``"debugpy"``, ``"pydevd"``, ``"pycharm"``, ``"pdb"``, the
        name a ``sys.monitoring`` debugger tool registered, or ``"trace"``
        for an unknown trace function.
    """
    modules = sys.modules
    if "debugpy" in modules or os.environ.get("DEBUGPY_RUNNING"):
        return "debugpy"
    if "pydevd" in modules or "_pydevd_bundle" in modules:
        return "pycharm" if os.environ.get("PYCHARM_HOSTED") else "pydevd"
    found = _monitoring_tool()
    if found is not None:
        return found
    tracer = sys.gettrace()
    if tracer is None and "threading" in modules:
        gettrace = getattr(modules["threading"], "gettrace", None)
        tracer = gettrace() if gettrace is not None else None
    if tracer is not None:
        return _classify_tracer(tracer)
    return None
