"""A copy of the stdlib :mod:`subprocess` with no green parts.

``eventlet.monkey_patch()`` replaces attributes of ``os``, ``select``,
``time`` and ``threading`` in place, so even
``eventlet.patcher.original('subprocess')`` ends up calling green
``os.waitpid``, ``time.sleep``, ``select.select`` and locks.  A native
thread of a patched process must never touch those, and the green
backend wants the plain fork/exec path too (no trampolines while
spawning).  :func:`unpatched_subprocess` builds a private copy of
:mod:`subprocess` wired to the *original* modules.  The copy's exception
and result classes are the stdlib's, so ``except
subprocess.TimeoutExpired`` catches its errors.  Imported only once
eventlet is in the process.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import posix
import subprocess
import types

from eventlet import patcher

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

_UNPATCHED: types.ModuleType | None = None


class _Unpatched(types.ModuleType):
    """A live view of a module with eventlet's replacements undone.

    Attributes come from the real module (so ``os.environ`` and everything
    else stay shared and current) except the ones eventlet patches or
    deletes, which come from an unpatched source.
    """

    def __init__(
        self, real: types.ModuleType, originals: Mapping[str, object]
    ) -> None:
        super().__init__(real.__name__, real.__doc__)
        self.__dict__.update(originals)
        self.__dict__["_pg_real"] = real

    def __getattr__(self, name: str) -> Any:
        # Called only for names not yet in our __dict__: remember them, so
        # the hot path (os.fsencode, os.path...) is a plain lookup.
        value = getattr(self.__dict__["_pg_real"], name)
        self.__dict__[name] = value
        return value


def _view(name: str, source: object) -> _Unpatched:
    green = importlib.import_module("eventlet.green." + name)
    names = [
        *getattr(green, "__patched__", ()),
        *getattr(green, "__deleted__", ()),
    ]
    originals = {n: getattr(source, n) for n in names if hasattr(source, n)}
    return _Unpatched(importlib.import_module(name), originals)


def _load_copy(
    name: str, replace: Mapping[str, types.ModuleType]
) -> types.ModuleType:
    # Execute a fresh copy of a stdlib module whose ``import`` statements
    # resolve ``replace``'s names to the given modules.  The swap lives in
    # the copy's own ``__builtins__``, so sys.modules is never touched and
    # other threads importing at the same time are unaffected (unlike
    # ``eventlet.patcher.inject``, which swaps sys.modules entries).
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot find the stdlib module {name!r}")
    module = importlib.util.module_from_spec(spec)

    def _import(
        modname: str,
        globals: Mapping[str, object] | None = None,
        locals: Mapping[str, object] | None = None,
        fromlist: tuple[str, ...] = (),
        level: int = 0,
    ) -> types.ModuleType:
        if level == 0 and modname in replace:
            return replace[modname]
        return builtins.__import__(modname, globals, locals, fromlist, level)

    namespace = dict(vars(builtins))
    namespace["__import__"] = _import
    module.__dict__["__builtins__"] = namespace
    spec.loader.exec_module(module)
    return module


def unpatched_subprocess() -> types.ModuleType:
    """Return the private copy of :mod:`subprocess` with no green parts.

    Built once; a race between two first callers builds two equivalent
    copies and keeps one, which is harmless.

    :returns: a module with the stdlib's API.
    """
    global _UNPATCHED
    if _UNPATCHED is None:
        select = _view("select", patcher.original("select"))
        modules = {
            "os": _view("os", posix),
            "time": _view("time", patcher.original("time")),
            "select": select,
            "selectors": _load_copy("selectors", {"select": select}),
            # eventlet's own unpatched threading (it builds it while
            # patching): subprocess only needs its Lock.
            "threading": patcher.original("threading"),
        }
        copy = _load_copy("subprocess", modules)
        # One set of classes whatever the backend: ``except
        # subprocess.TimeoutExpired`` must catch what the copy raises.
        for name in (
            "SubprocessError",
            "CalledProcessError",
            "TimeoutExpired",
            "CompletedProcess",
        ):
            setattr(copy, name, getattr(subprocess, name))
        _UNPATCHED = copy
    return _UNPATCHED
