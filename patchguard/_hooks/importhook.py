"""Post-import hooks that cost nothing until the watched module loads.

wrapt's ``register_post_import_hook`` does this job, but importing wrapt
costs ~120 ms here (it pulls in asyncio and importlib.metadata), which alone
would break the native-mode budget of ``import patchguard.bootstrap``.  This
finder is the small part of it patchguard needs on its fast path: it sits at
the front of ``sys.meta_path``, lets the real finders locate the module, and
wraps the loader so callbacks run right after the module body executed.
"""

from __future__ import annotations

import sys

from patchguard import _where

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

    Hook = Callable[[ModuleType], None]

#: module name → callbacks still to run (private; tests may clear it).
_hooks: dict[str, list[Hook]] = {}
#: module name → callbacks run each time its import is being resolved,
#: before any finder looks for it; they may raise ImportError to refuse.
_before: dict[str, list[Callable[[], None]]] = {}


class _HookedLoader:
    """Delegate to the real loader; fire the hooks after ``exec_module``."""

    def __init__(self, loader: object, name: str) -> None:
        self._loader = loader
        self._name = name

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    if TYPE_CHECKING:
        # Compiled below from _EXEC_SOURCE (see the comment there): the
        # real loader's ``exec_module``, then the hooks.
        def exec_module(self, module: ModuleType) -> None: ...

    def __getattr__(self, attr: str) -> object:
        # get_source, is_package, get_resource_reader ...: tracebacks,
        # linecache and importlib.resources keep working.
        return getattr(self._loader, attr)


# Why compiled under this file name: ``warnings.warn(stacklevel=N)`` skips
# the import system's own frames when it looks for the line to blame
# (CPython's ``_warnings.c``/``warnings.py`` treat a frame whose file name
# contains both "importlib" and "_bootstrap" as internal).  This wrapper is
# part of the import system for the modules it watches; without the name, a
# warning the module raises while it is imported (eventlet's deprecation
# banner, stacklevel=2) would point here instead of at the user's
# ``import`` line, and ``-W ...:module`` filters would not match.
_EXEC_SOURCE = """
def exec_module(self, module):
    self._loader.exec_module(module)
    _fire(self._name, module)
"""
_compiled: dict[str, object] = {}
exec(  # noqa: S102 - the fixed source above, compiled once at import
    compile(_EXEC_SOURCE, _where.HOOK_FILENAME, "exec"),
    globals(),
    _compiled,
)
_HookedLoader.exec_module = _compiled["exec_module"]  # type: ignore[method-assign,assignment]


class _Finder:
    """A meta-path finder that only wraps loaders of watched modules."""

    def find_spec(
        self,
        name: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        for check in _before.get(name, ()):
            check()
        if name not in _hooks:
            return None
        # The import system holds the per-module lock for ``name`` here, so
        # no other thread can be resolving the same name concurrently.
        for finder in sys.meta_path:
            if finder is self or isinstance(finder, _Finder):
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec: ModuleSpec | None = find(name, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _HookedLoader(  # type: ignore[assignment]
                        spec.loader, name
                    )
                return spec
        return None


_finder = _Finder()


def _fire(name: str, module: ModuleType) -> None:
    for hook in _hooks.pop(name, []):
        hook(module)


def when_imported(name: str, hook: Hook) -> None:
    """Call ``hook(module)`` once ``name`` is imported (now if it is).

    :param name: the absolute module name.
    :param hook: the callback; it runs once.
    """
    module = sys.modules.get(name)
    if module is not None:
        hook(module)
        return
    _hooks.setdefault(name, []).append(hook)
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def before_import(name: str, check: Callable[[], None]) -> None:
    """Call ``check()`` whenever ``name``'s import is being resolved.

    It runs with the importing code on the stack (so it can see who
    imports) and may raise :class:`ImportError` to refuse the import.  It
    stays registered: a refused import may be tried again.

    :param name: the absolute module name.
    :param check: the callback.
    """
    _before.setdefault(name, []).append(check)
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
