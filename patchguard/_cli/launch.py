"""Start a resolved target: as ``__main__`` (run) or imported (check).

:func:`prepare` makes the process look as it would under ``python -m
MODULE`` / ``python SCRIPT`` / the console script (``sys.argv``,
``sys.path[0]``, ``__main__``'s spec) so that auto detection sees the
target, not ``patchguard``: ``run -m oslo_config.generator`` is a config
tool and runs native.  Then :func:`run_as_main` runs it as Python would,
or :func:`load_for_check` imports it without starting the service.
Nothing here decides a mode: ``run`` bootstraps between :func:`prepare`
and :func:`run_as_main`, and a form of ``run`` that only watches can use
the same two steps without it.
"""

from __future__ import annotations

import sys

from patchguard._cli import target as _target

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

#: ``__name__`` a script runs under for ``check``: its ``__main__`` block
#: must not start the service.
CHECK_RUN_NAME = "__patchguard_check__"
#: ``__main__`` modules :func:`prepare` replaced (kept alive).
_replaced: list[object] = []


def prepare(target: _target.Target, args: list[str]) -> None:
    """Make the process look as Python would start ``target``.

    Call before the bootstrap: auto detection reads ``sys.argv[0]`` and
    ``__main__``'s spec.  ``sys.path[0]`` becomes the target's
    :attr:`~Target.path0`.

    :param target: the resolved target.
    :param args: the target's own arguments.
    """
    sys.argv = [target.argv0, *args]
    _target.set_path0(target.path0)
    if target.kind == "module" and target.module is not None:
        import types

        spec = _target.find_spec(target.module)
        if spec is not None and spec.submodule_search_locations is not None:
            spec = _target.find_spec(f"{target.module}.__main__")
        main = types.ModuleType("__main__")
        main.__spec__ = spec
        main.__file__ = target.argv0
        # Keep the old __main__ alive: its code (our console script) is
        # still on the stack.
        _replaced.append(sys.modules.get("__main__"))
        sys.modules["__main__"] = main


def function(module: str, path: str) -> Callable[[], Any]:
    """Import ``module`` and return its attribute ``path`` (``a.b``).

    :raises UsageError: when the attribute does not exist.
    """
    import importlib

    obj: Any = importlib.import_module(module)
    for part in path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise _target.UsageError(
                f"{module}:{path}: module {module!r} has no {path!r}",
                "TARGET",
                f"{module}:{path}",
                _target.FORMS,
            ) from None
    if not callable(obj):
        raise _target.UsageError(
            f"{module}:{path} is not callable", "TARGET", f"{module}:{path}"
        )
    return obj  # type: ignore[no-any-return]


def run_as_main(target: _target.Target) -> int:
    """Run the prepared ``target`` as Python would; return 0 when it ends.

    A function target (``MODULE:FUNCTION``, a console script, a ``cmd``
    module's ``main``) is called as console scripts call it:
    ``sys.exit(main())``.

    :param target: the resolved, prepared target.
    :returns: 0 when the target returns without raising.
    :raises SystemExit: with the target's status.
    """
    if target.function is not None and target.module is not None:
        raise SystemExit(function(target.module, target.function)())
    if target.kind == "script":
        import runpy

        runpy.run_path(target.name, run_name="__main__")
        return 0
    _exec_main_module(str(target.module))
    return 0


def _exec_main_module(name: str) -> None:
    # What ``python -m`` does: import the parent packages, then run the
    # module's code in ``__main__``'s namespace (kept, as Python keeps it,
    # for atexit handlers and threads that outlive it).
    import importlib
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is not None and spec.submodule_search_locations is not None:
        name = f"{name}.__main__"
        spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise _target.UsageError(
            f"-m {name}: no module named {name!r}", "-m", name
        )
    get_code = getattr(spec.loader, "get_code", None)
    code = get_code(spec.name) if get_code is not None else None
    if code is None:
        raise _target.UsageError(f"-m {name}: no code to run", "-m", name)
    main = sys.modules["__main__"]
    main.__dict__.update(
        __name__="__main__",
        __file__=spec.origin,
        __cached__=spec.cached,
        __loader__=spec.loader,
        __package__=spec.parent,
        __spec__=spec,
    )
    exec(code, main.__dict__)  # noqa: S102 - running the target is the job


def load_for_check(target: _target.Target) -> None:
    """Import ``target`` as its service would, without running ``main``.

    :param target: the resolved target.
    :raises UsageError: when a function target's attribute is missing.
    """
    if target.kind == "script":
        import runpy

        runpy.run_path(target.name, run_name=CHECK_RUN_NAME)
        return
    module = str(target.module)
    if target.function is not None and target.kind != "module":
        function(module, target.function)
        return
    import importlib

    spec = _target.find_spec(module)
    if spec is not None and spec.submodule_search_locations is not None:
        module = f"{module}.__main__"
    importlib.import_module(module)
