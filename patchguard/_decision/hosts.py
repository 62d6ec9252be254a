"""Detect who hosts the process: a WSGI server or a lint/doc/config tool.

Both are reasons to stay native: under Apache mod_wsgi or uWSGI, green
background work (an AMQP heartbeat) only runs while a request yields; a
linter or doc builder only imports the code and patching it breaks
``multiprocessing`` (``flake8 -j``).

The checks look only at what is already loaded (``sys.modules``,
``sys.argv``, the built-in modules of the embedding server): nothing is
imported that the process did not import itself, so a ``mod_wsgi`` pip
package that merely sits in a venv never counts.
"""

from __future__ import annotations

import os
import sys

#: Program names (``argv[0]`` basename, or the ``-m`` package) → tool.
_TOOLS = {
    "flake8": "flake8",
    "pylint": "pylint",
    "sphinx-build": "sphinx-build",
    "sphinx": "sphinx-build",
    "oslo-config-generator": "oslo-config-generator",
    "oslo_config": "oslo-config-generator",
}
_OSLOPOLICY_PREFIX = "oslopolicy-"


def wsgi_host() -> str | None:
    """Return ``"mod_wsgi"`` or ``"uwsgi"`` when embedded in one, else None.

    Apache mod_wsgi inserts a built-in ``mod_wsgi`` module with a
    ``process_group`` attribute; the pip-installable ``mod_wsgi`` package
    (``mod_wsgi-express``) has none.  uWSGI's Python plugin registers a
    built-in ``uwsgi`` module (listed in ``sys.builtin_module_names``).

    :returns: the host name, or ``None``.
    """
    mod = sys.modules.get("mod_wsgi")
    if mod is not None and hasattr(mod, "process_group"):
        return "mod_wsgi"
    mod = sys.modules.get("uwsgi")
    if mod is None and "uwsgi" in sys.builtin_module_names:
        import uwsgi  # embedded in the server: no import cost

        mod = uwsgi
    if mod is not None and getattr(mod, "__file__", None) is None:
        if hasattr(mod, "opt") or hasattr(mod, "numproc"):
            return "uwsgi"
    return None


def _program_names() -> list[str]:
    names = []
    argv = getattr(sys, "argv", None) or [""]
    base = os.path.basename(argv[0] or "")
    for suffix in ("-script.py", ".py", ".exe"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    if base and base != "__main__":
        names.append(base)
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    spec_name = getattr(spec, "name", None)
    if isinstance(spec_name, str):
        names.append(spec_name.split(".")[0])
        if spec_name.startswith("oslo_config.generator"):
            names.append("oslo-config-generator")
        if spec_name.startswith("oslo_policy."):
            names.append("oslopolicy-" + spec_name.split(".")[-1])
    return names


def tool() -> str | None:
    """Return the lint/doc/config tool running this process, or None.

    :returns: e.g. ``"flake8"``, ``"sphinx-build"``,
        ``"oslopolicy-checker"``.
    """
    for name in _program_names():
        if name.startswith(_OSLOPOLICY_PREFIX):
            return name
        if name in _TOOLS:
            if name == "oslo_config" and "oslo_config.generator" not in (
                sys.modules
            ):
                continue
            return _TOOLS[name]
    return None
