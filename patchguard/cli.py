"""The ``patchguard`` command (also ``python -m patchguard``).

``report [--json]``
    bootstrap this process per the environment and print the state.
``run [--mode M] [--patch LIST] TARGET [ARGS...]``
    find the target, bootstrap (as ``patchguard.apply(default="native")``:
    eventlet only when ``--mode``/the environment asks), then run the
    target as Python would (like ``python -m gevent.monkey``); exit with
    the target's status.
``run --watch TARGET [ARGS...]``
    run the target exactly as its project would, deciding nothing:
    patchguard only watches (forks, eventlet imports, oslo.service's
    backend) and warns.  The form for native-by-design services.
``check [--json] [--migration] [--timeout SECONDS] TARGET [ARGS...]``
    import the target exactly as the service starts, *without*
    bootstrapping first, in a child process, and report every finding
    about that start-up.  ``--migration`` adds one verdict: can the
    entry point run native, or which eventlet uses (in the modules it
    imported) block it (:mod:`patchguard._cli.migration`); the status is
    then 0 can run native, 1 blocked.
``check [--json] --spawn MODULE:ATTR``
    import MODULE, take ATTR (calling it when it is a function) and name
    every attribute path that would not pickle for a ``spawn`` worker.
``scan PATH... [--json] [--baseline FILE] [--exclude GLOB]``
    classify the eventlet uses in source trees
    (:mod:`patchguard.scan.command`).
``parity [--project NAME] -- COMMAND...``
    run a test command once per mode and compare the outcomes
    (:mod:`patchguard._parity.command`).

``TARGET`` is ``-m MODULE``, a script, ``MODULE:FUNCTION`` or an
installed console-script name (see :mod:`patchguard._cli.target`).

Exit status of ``report`` and ``check``: 0 clean, 1 when ``check`` found a
hazard, 2 on usage or configuration errors — never the target's.  With
``--json`` every outcome, errors included, is one JSON document on
stdout.  A reader that closes the pipe early (``| head -1``) ends the
output quietly.
"""

from __future__ import annotations

import json
import os
import sys

from patchguard._cli import EXIT_HAZARD, EXIT_OK, EXIT_USAGE
from patchguard._cli.target import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from patchguard._cli.target import Target
    from patchguard._errors import ConfigError

USAGE = """\
usage: patchguard report [--json]
       patchguard run [--mode MODE] [--patch LIST] TARGET [ARGS...]
       patchguard run --watch TARGET [ARGS...]
       patchguard check [--json] [--migration] [--timeout SECONDS] TARGET
                        [ARGS...]
       patchguard check [--json] --spawn MODULE:ATTR
       patchguard scan PATH... [--json] [--baseline FILE] [--exclude GLOB]
       patchguard parity [--project NAME] -- COMMAND...
TARGET: -m MODULE | SCRIPT | MODULE:FUNCTION | CONSOLE_SCRIPT
"""
__all__ = ["EXIT_HAZARD", "EXIT_OK", "EXIT_USAGE", "main", "main_exit"]
#: ``check``'s default ``--timeout`` (seconds).
DEFAULT_TIMEOUT = 60.0


class _Syntax(UsageError):
    """A malformed command line: the usage text follows the message."""


def _parse(
    argv: list[str], flags: Sequence[str], values: Sequence[str]
) -> tuple[dict[str, Any], str | None, str | None, list[str]]:
    """Split options from the target: ``(opts, module, text, args)``."""
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
                    raise _Syntax(f"{name} needs a value", name)
                value = argv[i + 1]
                i += 1
            opts[name] = value
            i += 1
            continue
        if token == "-m":  # noqa: S105 - a flag, not a password
            if i + 1 >= len(argv):
                raise _Syntax(
                    "-m needs a module name",
                    "-m",
                    None,
                    ("a dotted module name such as 'nova.cmd.compute'",),
                )
            return opts, argv[i + 1], None, argv[i + 2 :]
        if token.startswith("-") and len(token) > 1:
            raise _Syntax(f"unknown option {token!r}", token)
        return opts, None, token, argv[i + 1 :]
    raise _Syntax(
        "a target is required: -m MODULE, SCRIPT, MODULE:FUNCTION or "
        "CONSOLE_SCRIPT",
        "TARGET",
    )


def _emit(text: str) -> None:
    """Write to stdout; a reader gone away (``| head``) ends it quietly."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()


def _silence_stdout() -> None:
    # What is still buffered would fail again at exit ("Exception ignored
    # ... BrokenPipeError"): point stdout at /dev/null instead.
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)


def _report(argv: list[str]) -> int:
    if argv not in ([], ["--json"]):
        raise _Syntax(
            f"report takes only --json, not {' '.join(argv)!r}",
            argv[0],
            " ".join(argv),
            ("--json",),
        )
    from patchguard._cli import report as _render
    from patchguard._decision import apply as _apply

    current = _apply.apply().to_dict()
    if argv:
        _emit(json.dumps(current, indent=2, sort_keys=True) + "\n")
    else:
        _emit(_render.render(current))
    return EXIT_OK


def _target_project(target: Target) -> str | None:
    # The target names its project (cinder.cmd.volume, cinder-volume):
    # honour that project's OS_<PROJECT>_DISABLE_EVENTLET_PATCHING.
    if target.module is not None and target.kind != "console":
        name = target.module.split(".")[0]
    else:
        base = os.path.basename(target.name)
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
    opts, module, text, args = _parse(
        argv, ("--watch",), ("--mode", "--patch")
    )
    from patchguard._cli import launch as _launch
    from patchguard._cli import target as _target
    from patchguard._decision import policy as _policy

    if "--watch" in opts and ("--mode" in opts or "--patch" in opts):
        raise _Syntax(
            "--watch decides nothing: drop --mode/--patch", "--watch"
        )

    # The command line is the operator: it sets the same variables an
    # operator would, so child processes inherit the mode too.
    mode = None
    if "--mode" in opts:
        mode = _policy.parse_mode("--mode", opts["--mode"])
    if mode == "native" and "--patch" in opts:
        # Both on one command line contradict each other: a native
        # process patches nothing, so --patch would be silently dropped.
        raise _Syntax(
            "--patch chooses what eventlet patches; --mode native patches "
            "nothing: drop --patch, or use --mode eventlet",
            "--patch",
        )
    if "--mode" in opts:
        os.environ[_policy.MODE_VAR] = opts["--mode"]
    if "--patch" in opts:
        _policy.parse_patch("--patch", opts["--patch"])
        os.environ[_policy.PATCH_VAR] = opts["--patch"]
    # Found before the bootstrap (a typo is a usage error, not a patched
    # process that then fails), and made to look like `python TARGET` so
    # auto detection sees the target, not patchguard.
    found = _target.resolve(module, text)
    _launch.prepare(found, args)
    from patchguard._decision import apply as _apply
    from patchguard._errors import PatchOrderError

    try:
        if "--watch" not in opts:
            # Native unless the operator asks for eventlet: ``run`` must
            # never turn a native-by-design service green (issue 12).
            _apply.apply(default="native", project=_target_project(found))
        else:
            # Watching only: the project decides (nova's monkey_patch.py,
            # an oslo.service backend); patchguard names hazards as they
            # happen.  The variables are still checked first, as every
            # other verb does: a bad one is one line and exit 2, never a
            # traceback from a hook deep inside the target's import.
            _policy.decide(os.environ, inferred=_target_project(found))
            import patchguard  # noqa: F401 - starts the watch
    except PatchOrderError as exc:
        sys.stderr.write(f"patchguard: {exc}\n")
        return EXIT_HAZARD
    try:
        return _launch.run_as_main(found)
    except (SystemExit, UsageError):
        raise
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_HAZARD
    except BaseException as exc:  # noqa: BLE001 - shown as Python would
        from patchguard._cli import tb as _tb

        _tb.show(exc)
        if isinstance(exc, KeyboardInterrupt):
            _tb.die_by_sigint()
        return EXIT_HAZARD


def _check(argv: list[str]) -> int:
    if "--spawn" in argv or any(a.startswith("--spawn=") for a in argv):
        from patchguard._cli import spawn as _spawn_check

        return _spawn_check.main(argv)
    opts, module, text, args = _parse(
        argv, ("--json", "--migration"), ("--timeout",)
    )
    timeout = DEFAULT_TIMEOUT
    if "--timeout" in opts:
        raw = opts["--timeout"]
        try:
            timeout = float(raw)
        except ValueError:
            timeout = -1.0
        if not 0 < timeout < float("inf"):
            raise UsageError(
                f"--timeout={raw!r} is not valid; accepted values: a "
                f"number of seconds greater than 0",
                "--timeout",
                raw,
                ("a number of seconds greater than 0",),
            )
    from patchguard._cli import check as _checker

    _checker.validate_environment()
    from patchguard._cli import target as _target

    found = _target.resolve(module, text)
    status, output = _checker.check(
        found, args, "--json" in opts, timeout, "--migration" in opts
    )
    _emit(output)
    return status


def _wants_json(rest: list[str]) -> bool:
    # --json among patchguard's own options (before the target; after it
    # the word belongs to the target): the caller wants JSON, errors too.
    i = 0
    while i < len(rest) and rest[i].startswith("-") and rest[i] != "-m":
        if rest[i] == "--json":
            return True
        i += 2 if rest[i] == "--timeout" else 1
    return False


def _error_doc(exc: UsageError | ConfigError) -> dict[str, Any]:
    """The JSON form of a usage or configuration error (status 2)."""
    from patchguard._errors import ConfigError

    doc: dict[str, Any] = {"status": EXIT_USAGE, "error": str(exc)}
    if isinstance(exc, ConfigError):
        name = exc.name
        # Environment variables are upper case; arguments are not.
        key = "variable" if name and name.upper() == name else "argument"
        value, accepted = exc.value, exc.accepted
    else:
        key, name = "argument", exc.argument
        value, accepted = exc.value, exc.accepted
    doc[key] = name
    text = None if value is None else str(value)
    if text is not None and len(text) > 200:
        text = text[:197] + "..."
    doc["value"] = text
    doc["accepted"] = list(accepted)
    return doc


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    :param argv: arguments without the program name (default
        ``sys.argv[1:]``).
    :returns: the exit status.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    from patchguard._errors import ConfigError

    if not args or args[0] in ("-h", "--help", "help"):
        _emit(USAGE)
        return EXIT_OK if args else EXIT_USAGE
    if args[0] == "--version":
        from patchguard import __version__

        _emit(f"patchguard {__version__}\n")
        return EXIT_OK
    verb, rest = args[0], args[1:]
    if verb in ("report", "run", "check") and rest[:1] in (["-h"], ["--help"]):
        # ``run``/``check`` pass later arguments to the target; only a
        # help flag right after the verb is patchguard's.
        _emit(USAGE)
        return EXIT_OK
    as_json = verb in ("check", "report") and _wants_json(rest)
    try:
        if verb == "report":
            return _report(rest)
        if verb == "run":
            return _run(rest)
        if verb == "check":
            return _check(rest)
        if verb == "scan":
            from patchguard.scan import command as _scan

            return _scan.main(rest)
        if verb == "parity":
            from patchguard._parity import command as _parity

            return _parity.main(rest)
        raise _Syntax(f"unknown command {verb!r}", "COMMAND", verb)
    except (UsageError, ConfigError) as exc:
        usage = USAGE if isinstance(exc, _Syntax) else ""
        sys.stderr.write(f"patchguard: {exc}\n{usage}")
        if as_json:
            _emit(json.dumps(_error_doc(exc), sort_keys=True) + "\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        # The operator's Ctrl-C on report/check (run hands the target's
        # own to the target's excepthook): no traceback, shell status.
        sys.stderr.write("patchguard: interrupted\n")
        return 128 + 2


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()


def main_exit() -> None:
    """Console-script entry point: exit with :func:`main`'s status.

    The target of ``run`` may end with ``SystemExit``: its status stands,
    and what it left in stdout's buffer is flushed here, quietly when
    the reader has gone.
    """
    try:
        status = main()
    finally:
        _flush_stdout()
    raise SystemExit(status)
