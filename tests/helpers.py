"""Run scenario scripts in fresh interpreters.

Anything that patches, imports the bootstrap or starts threads runs in its
own interpreter: patching cannot be undone, so an in-process test would
leak it into every test after it (eventlet's ``tests.run_isolated`` and
gevent's one-process-per-``test__monkey_*`` follow the same rule).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ISOLATED = Path(__file__).resolve().parent / "isolated"
#: variables patchguard reads: scrubbed so the outer environment (a
#: developer's shell, CI) never decides a test's mode.
_SCRUB = (
    "PATCHGUARD_",
    "DISABLE_EVENTLET_PATCHING",
    "OS_",
    "DEBUGPY_RUNNING",
    "PYCHARM_HOSTED",
    "PYTEST_",
)


def scrub_env(monkeypatch: Any) -> None:
    """Drop patchguard's (and pytest's) switches from this process's
    environment, for a pytester subprocess run that must decide its own
    mode.

    :param monkeypatch: the test's ``pytest.MonkeyPatch``.
    """
    for name in list(os.environ):
        if name.startswith(_SCRUB):
            monkeypatch.delenv(name)
    # eventlet's import-time deprecation banner is noise on stderr.
    monkeypatch.setenv("EVENTLET_TESTS", "1")


@dataclass
class Result:
    """What an isolated run produced."""

    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """Parse the last JSON object printed on a stdout line (a prompt
        such as pdb's may precede it on the same line)."""
        for line in reversed(self.stdout.splitlines()):
            start = line.find('{"')
            if start >= 0:
                return json.loads(line[start:])
        raise AssertionError(
            f"no JSON line in stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        )


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Return the current environment minus patchguard's switches.

    :param extra: variables to set on top.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB)}
    # eventlet's import-time deprecation banner is noise in stderr checks.
    env["EVENTLET_TESTS"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), str(ISOLATED), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    env.update(extra or {})
    return env


def run_isolated(
    script: str | Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    python: str | None = None,
    cwd: str | Path | None = None,
    pre_args: tuple[str, ...] = (),
    stdin: str | None = None,
) -> Result:
    """Run ``tests/isolated/<script>`` (or a path) in a fresh interpreter.

    :param script: a file name under ``tests/isolated/`` or a path; a
        name starting with ``-m`` runs a module instead.
    :param args: arguments for the script.
    :param env: variables added to the scrubbed environment.
    :param timeout: seconds before the run is killed (a hang fails the
        test instead of hanging the suite).
    :param python: interpreter (default: the one running the tests).
    :param cwd: working directory.
    :param pre_args: interpreter options placed before the script
        (``-W``, ``-m debugpy ...``).
    :param stdin: text fed to standard input (default: none).
    :returns: the exit status and output.
    """
    if str(script).startswith("-m"):
        target = ["-m", str(script)[2:].strip()]
    else:
        path = Path(script)
        if not path.is_absolute():
            path = ISOLATED / path
        target = [str(path)]
    cmd = [python or sys.executable, *pre_args, *target, *args]
    proc = subprocess.run(
        cmd,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def line_of(script: str, marker: str) -> str:
    """Return ``path:lineno`` of the first line of ``script`` containing
    ``marker`` (so tests never hard-code line numbers)."""
    path = ISOLATED / script
    for number, text in enumerate(path.read_text().splitlines(), 1):
        if marker in text:
            return f"{path}:{number}"
    raise AssertionError(f"{marker!r} not in {path}")
