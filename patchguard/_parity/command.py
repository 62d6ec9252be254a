"""``patchguard parity [OPTIONS] -- COMMAND...``: any test command, per mode.

OpenStack suites run under ``stestr``, not pytest, so the comparison of
``pytest --patchguard-modes`` is offered for any command.  COMMAND runs
once per mode with ``PATCHGUARD_MODE``, patchguard's legacy
``DISABLE_EVENTLET_PATCHING`` and, with ``--project NAME`` (or
``PATCHGUARD_PROJECT``), the project's own
``OS_<NAME>_DISABLE_EVENTLET_PATCHING`` set for that mode.  Its results
are read from:

- JUnit XML, when an argument of COMMAND contains ``{junitxml}``: it is
  replaced by a temporary file per mode (``pytest --junitxml={junitxml}``,
  ``stestr last --subunit | subunit2junitxml -o {junitxml}``);
- otherwise a subunit v2 stream on COMMAND's standard output
  (``stestr run --subunit``, ``python -m subunit.run``), read with
  python-subunit (extra ``parity``).  COMMAND's standard error passes
  through.

Options: ``--modes LIST`` (default ``eventlet,native``), ``--project
NAME``, ``--mode-specific GLOB`` (repeatable: test ids allowed to differ,
the counterpart of the ``patchguard_mode_specific`` marker).

Exit status: 1 when a test not allowed to differ passed in one mode and
failed or errored in another; otherwise the first non-zero status of the
runs, or 0; 2 on usage errors.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from patchguard._decision import policy as _policy
from patchguard._errors import ConfigError
from patchguard._parity import results as _results
from patchguard._parity import runner as _runner

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import IO

USAGE = """\
usage: patchguard parity [--modes LIST] [--project NAME]
                         [--mode-specific GLOB]... -- COMMAND...
"""
PLACEHOLDER = "{junitxml}"
EXIT_USAGE = 2


def _parse(argv: Sequence[str]) -> tuple[dict[str, list[str]], list[str]]:
    if "--" not in argv:
        raise ConfigError(
            "parity needs the test command after '--', e.g. "
            "'patchguard parity -- stestr run --subunit'"
        )
    cut = list(argv).index("--")
    head, command = list(argv[:cut]), list(argv[cut + 1 :])
    if not command:
        raise ConfigError("parity: the command after '--' is empty")
    opts: dict[str, list[str]] = {}
    i = 0
    while i < len(head):
        name, eq, value = head[i].partition("=")
        if name not in ("--modes", "--project", "--mode-specific"):
            raise ConfigError(
                f"parity: unknown option {head[i]!r}; accepted: --modes, "
                f"--project, --mode-specific, then '--' and the command"
            )
        if not eq:
            if i + 1 >= len(head):
                raise ConfigError(f"parity: {name} needs a value")
            i += 1
            value = head[i]
        opts.setdefault(name, []).append(value)
        i += 1
    return opts, command


def main(argv: Sequence[str]) -> int:
    """Run ``patchguard parity``.

    :param argv: the arguments after ``parity``.
    :returns: the exit status.
    """
    if list(argv) in (["-h"], ["--help"]):
        sys.stdout.write(USAGE + str(__doc__).split("\n\n", 1)[1])
        return 0
    try:
        opts, command = _parse(argv)
        modes = _runner.parse_modes(
            "--modes", opts.get("--modes", ["eventlet,native"])[-1]
        )
        project = _policy.parse_project(
            "--project", opts.get("--project", [None])[-1]
        ) or _policy.parse_project(
            _policy.PROJECT_VAR, os.environ.get(_policy.PROJECT_VAR)
        )
    except ConfigError as exc:
        sys.stderr.write(f"patchguard: {exc}\n{USAGE}")
        return EXIT_USAGE
    allow = opts.get("--mode-specific", [])
    junit = any(PLACEHOLDER in arg for arg in command)

    with tempfile.TemporaryDirectory(prefix="patchguard-parity-") as tmp:

        def run_one(mode: str) -> tuple[int, _results.Outcomes]:
            env = _runner.mode_env(mode, project, os.environ)
            if junit:
                path = os.path.join(tmp, f"{mode}.xml")
                argv = [a.replace(PLACEHOLDER, path) for a in command]
                rc = _call(argv, env, None)
                if not os.path.exists(path):
                    sys.stderr.write(
                        f"patchguard: {mode} run wrote no {path}\n"
                    )
                    return rc, _results.Outcomes()
                return rc, _results.read_junit(path)
            stream = os.path.join(tmp, f"{mode}.subunit")
            with open(stream, "w+b") as out:
                rc = _call(command, env, out)
                out.seek(0)
                return rc, _results.read_subunit(out)

        try:
            return _runner.run_modes(modes, run_one, allow)
        except FileNotFoundError as exc:
            sys.stderr.write(
                f"patchguard: parity: command not found: {exc.filename}\n"
            )
            return EXIT_USAGE
        except ImportError as exc:
            sys.stderr.write(
                f"patchguard: parity: reading subunit needs python-subunit "
                f"(pip install 'patchguard[parity]'): {exc}\n"
            )
            return EXIT_USAGE


def _call(argv: list[str], env: dict[str, str], out: IO[bytes] | None) -> int:
    sys.stdout.flush()
    return subprocess.call(argv, env=env, stdout=out)  # noqa: S603
