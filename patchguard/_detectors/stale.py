"""Find module globals that will keep native objects after patching.

``from time import sleep`` or ``from threading import Lock`` executed before
``monkey_patch()`` binds the original object into the importing module;
patching replaces ``time.sleep`` but not the copy, so that module blocks
the hub or loses mutual exclusion.  Instances made before patching (a
module-level ``Lock()``, ``SimpleQueue()`` or ``ssl.SSLContext()``) are just
as stuck.  This module snapshots, *before* patching, the identity of every
attribute eventlet is about to replace (from the ``__patched__`` lists of
``eventlet.green`` modules), then scans the modules imported so far.
Eventlet's, greenlet's, patchguard's and the standard library's own
internal references are skipped: they are eventlet's business, and
reporting them would be noise on every clean program.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: eventlet option → (stdlib module, eventlet.green module) it patches.
_PATCHES = {
    "os": (("os", "os"),),
    "select": (("select", "select"), ("selectors", "selectors")),
    "socket": (("socket", "socket"), ("ssl", "ssl")),
    # threading first: an object known under several names is reported
    # under the one users import (``threading.Lock``, not ``_thread``'s).
    "thread": (
        ("threading", "threading"),
        ("_thread", "thread"),
        ("queue", "Queue"),
    ),
    "time": (("time", "time"),),
    "subprocess": (("subprocess", "subprocess"),),
}
#: replaced by monkey_patch() outside the ``__patched__`` lists.
_EXTRA = {"thread": (("threading", "RLock"), ("queue", "SimpleQueue"))}

_SKIP_TOP = (
    "eventlet",
    "greenlet",
    "patchguard",
    "wrapt",
    "__original_module_",
    "__patched_module_",
    # dnspython keeps the resolver functions it replaces on purpose; it is
    # imported by eventlet itself (greendns).
    "dns",
)
_TOOLING = frozenset(
    {
        "_pytest",
        "pytest",
        "pluggy",
        "_hypothesis_globals",
        "hypothesis",
        "coverage",
        "debugpy",
        "pydevd",
        "_pydevd_bundle",
        "_pydev_bundle",
        "_pydevd_frame_eval",
        "pydevd_plugins",
        # The embedding server's own modules load before any WSGI script
        # can bootstrap; WSGIHostWarning covers forcing eventlet there.
        "mod_wsgi",
        "uwsgi",
        "uwsgidecorators",
    }
)


class StaleRef:
    """A module global still holding a native object after patching.

    :ivar module: the module holding it.
    :ivar attr: the global's name.
    :ivar original: what it holds, e.g. ``time.sleep`` or
        ``instance of _thread.lock``.
    """

    __slots__ = ("module", "attr", "original")

    def __init__(self, module: str, attr: str, original: str) -> None:
        self.module = module
        self.attr = attr
        self.original = original

    def describe(self) -> str:
        """Return ``module.attr -> original``."""
        return f"{self.module}.{self.attr} -> {self.original}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {
            "module": self.module,
            "attr": self.attr,
            "original": self.original,
        }


class Snapshot:
    """What patching will replace, and which modules existed before it.

    :ivar originals: ``id(object)`` → (object, ``"module.attr"``).
    :ivar instance_types: native types whose instances go stale.
    :ivar modules: names of the modules imported before patching.
    """

    def __init__(self, options: frozenset[str]) -> None:
        import importlib

        # Listed first: the eventlet.green imports below bring in eventlet's
        # own dependencies (dnspython), whose references are eventlet's.
        self.modules = [
            name for name in list(sys.modules) if not _skipped(name)
        ]
        self.instance_types = _instance_types(options)
        self.originals: dict[int, tuple[object, str]] = {}
        for option in sorted(options):
            for std_name, green_name in _PATCHES.get(option, ()):
                std = sys.modules.get(std_name)
                if std is None:
                    # Not imported yet: nobody can hold a copy of it.
                    continue
                green = importlib.import_module("eventlet.green." + green_name)
                names = list(getattr(green, "__patched__", ()))
                for attr in names:
                    self._remember(std, std_name, attr)
            for std_name, attr in _EXTRA.get(option, ()):
                std = sys.modules.get(std_name)
                if std is not None:
                    self._remember(std, std_name, attr)

    def _remember(self, module: object, module_name: str, attr: str) -> None:
        obj = getattr(module, attr, None)
        if obj is None or isinstance(obj, (int, str, float, bool)):
            return
        self.originals.setdefault(id(obj), (obj, f"{module_name}.{attr}"))


def _instance_types(options: frozenset[str]) -> dict[type, str]:
    types: dict[type, str] = {}
    if "thread" in options:
        import _thread

        types[_thread.LockType] = "_thread.lock"
        types[_thread.RLock] = "_thread.RLock"
        if "_queue" in sys.modules or "queue" in sys.modules:
            import _queue

            types[_queue.SimpleQueue] = "_queue.SimpleQueue"
    if "socket" in options and "ssl" in sys.modules:
        types[sys.modules["ssl"].SSLContext] = "ssl.SSLContext"
    return types


def _skipped(name: str) -> bool:
    top = name.split(".", 1)[0]
    if top.startswith(_SKIP_TOP):
        return True
    # The standard library's own internal references are eventlet's
    # concern (it patches them or relies on them); the test runner's and
    # debugger's are tooling that runs before any bootstrap by design.
    return (
        top in _STDLIB
        or top in _TOOLING
        or top.startswith(("_pydev", "pydev"))
    )


_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ()))


def scan(snapshot: Snapshot) -> list[StaleRef]:
    """Report globals of pre-patch modules still holding replaced objects.

    :param snapshot: taken before patching.
    :returns: one :class:`StaleRef` per stale global, in module order.
    """
    originals = snapshot.originals
    kinds = snapshot.instance_types
    found = []
    modules = sys.modules
    for name in snapshot.modules:
        module = modules.get(name)
        namespace = getattr(module, "__dict__", None)
        if namespace is None:
            continue
        for attr, value in list(namespace.items()):
            entry = originals.get(id(value))
            if entry is not None and entry[0] is value:
                found.append(StaleRef(name, attr, entry[1]))
                continue
            kind = kinds.get(type(value))
            if kind is not None:
                found.append(StaleRef(name, attr, f"instance of {kind}"))
    return found
