"""What ``run`` and ``check`` start: find the target the operator named.

A target is named the way services are started: ``-m MODULE``, a script
(a ``.py`` file, or a directory or zip with ``__main__.py``),
``MODULE:FUNCTION`` (an entry-point value) or the name of an installed
console script (``nova-compute``, looked up in the ``console_scripts``
entry points).  :func:`resolve` finds it *without importing any of its
code*: parent packages are located through the import system's finders
but not executed, because a package ``__init__`` that imports eventlet
or threads would run before the bootstrap (nova's ``cmd/__init__.py``
used to patch there).  A target that cannot be found is a
:class:`UsageError` before anything is bootstrapped.

:mod:`patchguard._cli.launch` then prepares and runs or imports it.

OpenStack ``cmd`` modules define ``main()`` with no ``if __name__ ==
"__main__":`` block (their console scripts call ``main``): ``python -m
nova.cmd.compute`` silently does nothing.  A ``-m MODULE`` whose source
has no such block but defines a top-level ``main`` therefore resolves to
``MODULE:main`` run the way its console script runs it (the target's
:attr:`~Target.function` is ``"main"``).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from typing import Any

#: The forms a target may take (the ``accepted`` of a target error).
FORMS = ("-m MODULE", "SCRIPT", "MODULE:FUNCTION", "CONSOLE_SCRIPT")


class UsageError(Exception):
    """A bad command line: the message is one line for the operator.

    :ivar argument: the option or ``TARGET`` at fault, or ``None``.
    :ivar value: the bad value, or ``None``.
    :ivar accepted: what would have been accepted.
    """

    def __init__(
        self,
        message: str,
        argument: str | None = None,
        value: str | None = None,
        accepted: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.argument = argument
        self.value = value
        self.accepted = accepted


class Target:
    """A resolved target.

    :ivar kind: ``"module"``, ``"script"``, ``"function"`` or
        ``"console"``.
    :ivar name: what the operator typed (module name, path, ``mod:func``
        or console-script name).
    :ivar module: the module to import (``None`` for scripts).
    :ivar function: the attribute path to call, or ``None``.
    :ivar argv0: ``sys.argv[0]`` as Python would set it for this form.
    :ivar path0: ``sys.path[0]`` as Python would set it for this form.
    :ivar args: the target's own arguments.
    """

    __slots__ = ("kind", "name", "module", "function", "argv0", "path0")

    def __init__(
        self,
        kind: str,
        name: str,
        module: str | None,
        function: str | None,
        argv0: str,
        path0: str,
    ) -> None:
        self.kind = kind
        self.name = name
        self.module = module
        self.function = function
        self.argv0 = argv0
        self.path0 = path0

    def describe(self) -> str:
        """Return the target as the operator would type it."""
        if self.kind == "module":
            return f"-m {self.name}"
        if self.kind == "console":
            return f"{self.name} ({self.module}:{self.function})"
        return self.name

    def to_dict(self) -> dict[str, str | None]:
        """Return the fields as a JSON-serialisable dict."""
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Target:
        """Rebuild a target from :meth:`to_dict` (in ``check``'s child)."""
        return cls(*(data[name] for name in cls.__slots__))


def _is_dotted(name: str) -> bool:
    return bool(name) and all(p.isidentifier() for p in name.split("."))


def find_spec(name: str) -> ModuleSpec | None:
    """Locate module ``name`` without executing it or its packages.

    :param name: a dotted module name.
    :returns: its spec, or ``None`` when no finder knows it.
    """
    path: Any = None
    spec: ModuleSpec | None = None
    parts = name.split(".")
    for i in range(len(parts)):
        full = ".".join(parts[: i + 1])
        loaded = sys.modules.get(full)
        if loaded is not None and full != "__main__":
            spec = getattr(loaded, "__spec__", None)
            path = getattr(loaded, "__path__", None)
        else:
            spec = None
            for finder in sys.meta_path:
                find = getattr(finder, "find_spec", None)
                if find is None:
                    continue
                try:
                    spec = find(full, path)
                except (ImportError, ValueError):
                    spec = None
                if spec is not None:
                    break
            if spec is None:
                return None
            path = spec.submodule_search_locations
        if path is None and i < len(parts) - 1:
            return None
    return spec


def _runs_main(spec: ModuleSpec) -> bool:
    # True when the module defines main() but has no __main__ block:
    # ``python -m`` would run nothing.
    origin = spec.origin or ""
    if not origin.endswith(".py"):
        return False
    import ast

    try:
        with open(origin, "rb") as source:
            tree = ast.parse(source.read(), origin)
    except (OSError, SyntaxError, ValueError):
        return False
    has_main = False
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            has_main = has_main or node.name == "main"
        if isinstance(node, ast.If) and "__main__" in ast.dump(node.test):
            return False
    return has_main


def _module(name: str, label: str) -> Target:
    if not _is_dotted(name):
        raise UsageError(
            f"{label} needs a module name, not {name!r}",
            label,
            name,
            ("a dotted module name such as 'nova.cmd.compute'",),
        )
    spec = find_spec(name)
    if spec is None:
        raise UsageError(
            f"{label} {name}: no module named {name!r}", label, name
        )
    if spec.submodule_search_locations is not None:
        main = find_spec(f"{name}.__main__")
        if main is None:
            raise UsageError(
                f"{label} {name}: {name!r} is a package without a "
                f"__main__ module, so it cannot be run",
                label,
                name,
            )
        spec = main
    cwd = os.getcwd()
    if _runs_main(spec):
        return Target("module", name, name, "main", spec.origin or name, cwd)
    return Target("module", name, name, None, spec.origin or name, cwd)


def _script(path: str) -> Target:
    if os.path.isdir(path) or (
        os.path.isfile(path) and not path.endswith(".py")
    ):
        import zipfile

        is_zip = os.path.isfile(path) and zipfile.is_zipfile(path)
        if os.path.isdir(path) or is_zip:
            names = (
                os.listdir(path)
                if os.path.isdir(path)
                else zipfile.ZipFile(path).namelist()
            )
            if not {"__main__.py", "__main__.pyc"} & set(names):
                raise UsageError(
                    f"{path}: no __main__.py in it, so it cannot be run",
                    "TARGET",
                    path,
                    FORMS,
                )
            return Target("script", path, None, None, path, path)
    directory = os.path.dirname(os.path.abspath(path))
    return Target("script", path, None, None, path, directory)


def _function(text: str) -> Target:
    module, _, function = text.partition(":")
    if find_spec(module) is None:
        raise UsageError(
            f"{text}: no module named {module!r}", "TARGET", text, FORMS
        )
    return Target("function", text, module, function, text, os.getcwd())


def _console(name: str) -> Target | None:
    from importlib import metadata

    found = list(metadata.entry_points(group="console_scripts", name=name))
    if not found:
        return None
    entry = found[0]
    module, function = entry.module, entry.attr
    if find_spec(module) is None:
        raise UsageError(
            f"console script {name!r} runs {entry.value}, but there is no "
            f"module named {module!r}",
            "TARGET",
            name,
            FORMS,
        )
    import shutil

    argv0 = shutil.which(name) or name
    path0 = os.path.dirname(os.path.abspath(argv0))
    return Target("console", name, module, function or None, argv0, path0)


def resolve(module: str | None, text: str | None) -> Target:
    """Find the target named on the command line; import none of it.

    As Python does for the same form, ``sys.path[0]`` becomes the
    script's directory (or the working directory for ``-m``) first, so
    the target's own modules are found.

    :param module: the ``-m`` value, or ``None``.
    :param text: the positional target, or ``None``.
    :returns: the target.
    :raises UsageError: when it names nothing that can run.
    """
    if module is not None:
        set_path0(os.getcwd())
        return _module(module, "-m")
    if not text:
        raise UsageError(
            "an empty target names nothing to run", "TARGET", text, FORMS
        )
    if os.path.exists(text):
        target = _script(text)
    elif ":" in text and all(_is_dotted(p) for p in text.split(":", 1)):
        set_path0(os.getcwd())
        target = _function(text)
    elif os.sep in text or text.endswith((".py", ".pyz")):
        raise UsageError(f"{text}: no such file", "TARGET", text, FORMS)
    else:
        console = _console(text)
        if console is None:
            hint = ""
            set_path0(os.getcwd())
            if _is_dotted(text) and find_spec(text) is not None:
                hint = f" (to run the module, use -m {text})"
            raise UsageError(
                f"{text!r}: no such file, MODULE:FUNCTION or installed "
                f"console script{hint}",
                "TARGET",
                text,
                FORMS,
            )
        target = console
    set_path0(target.path0)
    return target


def set_path0(path: str) -> None:
    """Make ``path`` ``sys.path[0]``, as Python does for the script's
    directory (unless ``-P``/``PYTHONSAFEPATH`` asked for none)."""
    if getattr(sys.flags, "safe_path", False):
        return
    if sys.path:
        sys.path[0] = path
    else:
        sys.path.insert(0, path)
