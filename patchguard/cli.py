"""The ``patchguard`` command (also ``python -m patchguard``).

``report``
    bootstrap this process per the environment and print the state.
``run [--mode M] [--patch LIST] (-m MODULE | SCRIPT) [ARGS...]``
    bootstrap first (as ``patchguard.apply(default="native")``: eventlet
    only when ``--mode``/the environment asks), then run the target as
    ``__main__`` (like ``python -m gevent.monkey``); exit with the
    target's status.
``run --watch (-m MODULE | SCRIPT) [ARGS...]``
    run the target exactly as its project would, deciding nothing:
    patchguard only watches (forks, eventlet imports, oslo.service's
    backend) and warns.  The form for native-by-design services.
``check --spawn MODULE:ATTR``
    import MODULE, take ATTR (calling it when it is a function) and name
    every attribute path that would not pickle for a ``spawn`` worker.
``check [--json] (-m MODULE | SCRIPT)``
    import the target exactly as the service starts, *without*
    bootstrapping first, and report every finding about that start-up.
``scan PATH... [--json] [--baseline FILE] [--exclude GLOB]``
    classify the eventlet uses in source trees
    (:mod:`patchguard.scan.command`).
``parity [--project NAME] -- COMMAND...``
    run a test command once per mode and compare the outcomes
    (:mod:`patchguard._parity.command`).

Exit status: 0 clean, 1 when ``check`` found a hazard, 2 on usage or
configuration errors.
"""

from __future__ import annotations

import json
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

USAGE = """\
usage: patchguard report [--json]
       patchguard run [--mode MODE] [--patch LIST]
                      (-m MODULE | SCRIPT) [ARGS...]
       patchguard run --watch (-m MODULE | SCRIPT) [ARGS...]
       patchguard check [--json] (-m MODULE | SCRIPT)
       patchguard check [--json] --spawn MODULE:ATTR
       patchguard scan PATH... [--json] [--baseline FILE] [--exclude GLOB]
       patchguard parity [--project NAME] -- COMMAND...
"""
EXIT_OK, EXIT_HAZARD, EXIT_USAGE = 0, 1, 2
#: run name for scripts under ``check``: their ``__main__`` block must not
#: start the service.
CHECK_RUN_NAME = "__patchguard_check__"


class UsageError(Exception):
    """Bad command line; the message is printed after the usage."""


class Target:
    """What to run: a module (``-m``) or a script path, and its argv."""

    def __init__(
        self, module: str | None, script: str | None, args: list[str]
    ) -> None:
        self.module = module
        self.script = script
        self.args = args

    def describe(self) -> str:
        """Return ``-m module`` or the script path."""
        return f"-m {self.module}" if self.module else str(self.script)


def _parse(
    argv: list[str], flags: Sequence[str], values: Sequence[str]
) -> tuple[dict[str, Any], Target]:
    opts: dict[str, Any] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in flags:
            opts[token] = True
            i += 1
            continue
        name, eq, value = token.partition("=")
        if name in values:
            if not eq:
                if i + 1 >= len(argv):
                    raise UsageError(f"{name} needs a value")
                value = argv[i + 1]
                i += 1
            opts[name] = value
            i += 1
            continue
        if token == "-m":  # noqa: S105 - a flag, not a password
            if i + 1 >= len(argv):
                raise UsageError("-m needs a module name")
            return opts, Target(argv[i + 1], None, argv[i + 2 :])
        if token.startswith("-"):
            raise UsageError(f"unknown option {token!r}")
        return opts, Target(None, token, argv[i + 1 :])
    raise UsageError("a target is required: -m MODULE or SCRIPT")


def _report(argv: list[str]) -> int:
    if argv not in ([], ["--json"]):
        raise UsageError(f"report takes only --json, not {argv!r}")
    from patchguard._cli import report as _report
    from patchguard._decision import apply as _apply

    current = _apply.apply()
    if argv:
        print(json.dumps(current.to_dict(), indent=2, sort_keys=True))
    else:
        sys.stdout.write(_report.render(current))
    return EXIT_OK


def _prepare_path(target: Target) -> None:
    if target.script is not None:
        sys.path.insert(0, os.path.dirname(os.path.abspath(target.script)))
    elif "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())


def _target_project(target: Target) -> str | None:
    # The target names its project (cinder.cmd.volume, cinder-volume):
    # honour that project's OS_<PROJECT>_DISABLE_EVENTLET_PATCHING.
    if target.module is not None:
        name = target.module.split(".")[0]
    else:
        base = os.path.basename(str(target.script))
        name = base.split("-")[0].split(".")[0]
    from patchguard._decision import policy as _policy
    from patchguard._errors import ConfigError

    try:
        project = _policy.parse_project("target", name)
    except ConfigError:  # not a project-like name: nothing to honour
        return None
    if project is None or _policy.project_var(project) not in os.environ:
        return None
    return project


def _run(argv: list[str]) -> int:
    opts, target = _parse(argv, ("--watch",), ("--mode", "--patch"))
    from patchguard._decision import policy as _policy

    if "--watch" in opts and ("--mode" in opts or "--patch" in opts):
        raise UsageError("--watch decides nothing: drop --mode/--patch")

    # The command line is the operator: it sets the same variables an
    # operator would, so child processes inherit the mode too.
    if "--mode" in opts:
        _policy.parse_mode("--mode", opts["--mode"])
        os.environ[_policy.MODE_VAR] = opts["--mode"]
    if "--patch" in opts:
        _policy.parse_patch("--patch", opts["--patch"])
        os.environ[_policy.PATCH_VAR] = opts["--patch"]
    if "--watch" not in opts:
        from patchguard._decision import apply as _apply

        # Native unless the operator asks for eventlet: ``run`` must never
        # turn a native-by-design service green by default (issue 12).
        _apply.apply(default="native", project=_target_project(target))
    else:
        # Watching only: the project decides (nova's monkey_patch.py, an
        # oslo.service backend); patchguard names hazards as they happen.
        import patchguard  # noqa: F401 - starts the watch
    import runpy

    _prepare_path(target)
    if target.module is not None:
        sys.argv = [target.module, *target.args]
        runpy.run_module(target.module, run_name="__main__", alter_sys=True)
    else:
        sys.argv = [str(target.script), *target.args]
        runpy.run_path(str(target.script), run_name="__main__")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    :param argv: arguments without the program name (default
        ``sys.argv[1:]``).
    :returns: the exit status.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    from patchguard._errors import ConfigError

    if not args or args[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return EXIT_OK if args else EXIT_USAGE
    verb, rest = args[0], args[1:]
    try:
        if verb == "report":
            return _report(rest)
        if verb == "run":
            return _run(rest)
        if verb == "check":
            from patchguard._cli import check as _check

            if "--spawn" in rest or any(
                a.startswith("--spawn=") for a in rest
            ):
                from patchguard._cli import spawn as _spawn_check

                return _spawn_check.main(rest)
            opts, target = _parse(rest, ("--json",), ())
            return _check.main(target, as_json="--json" in opts)
        if verb == "scan":
            from patchguard.scan import command as _scan

            return _scan.main(rest)
        if verb == "parity":
            from patchguard._parity import command as _parity

            return _parity.main(rest)
        raise UsageError(f"unknown command {verb!r}")
    except UsageError as exc:
        sys.stderr.write(f"patchguard: {exc}\n{USAGE}")
        return EXIT_USAGE
    except ConfigError as exc:
        sys.stderr.write(f"patchguard: {exc}\n")
        return EXIT_USAGE


def main_exit() -> None:
    """Console-script entry point: exit with :func:`main`'s status."""
    raise SystemExit(main())
