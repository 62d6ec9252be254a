"""Run scenario scripts in fresh interpreters.

Anything that patches, imports the bootstrap or starts threads runs in its
own interpreter: patching cannot be undone, so an in-process test would
leak it into every test after it (eventlet's ``tests.run_isolated`` and
gevent's one-process-per-``test__monkey_*`` follow the same rule).
"""

from __future__ import annotations

import json
import os
import shutil
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


#: Where the installed-package venvs live (gitignored, reused between runs).
CACHE = ROOT / ".cache"
_installed: dict[str, str] = {}


def installed_python() -> str:
    """Return an interpreter that has patchguard *installed* from this
    checkout (``pip install .``, not editable), made once per session.

    User-facing behaviour (``-W``/``PYTHONWARNINGS`` filters, the console
    script, the distribution's metadata) must be tested as users get it:
    a ``PYTHONPATH`` checkout is importable while CPython parses ``-W`` at
    start-up and an installed package is not, which is how issue 11 §4's
    bug passed its tests.  The venv (under ``.cache/``, one per Python
    version) sees the running interpreter's site-packages through a
    ``.pth`` line (dependencies only: that directory's own ``.pth`` files,
    including an editable install's finder, are not processed), and
    patchguard itself is reinstalled from the checkout on first use in
    each session.  Scripts run with it must not put the checkout on
    ``sys.path``: use :func:`run_installed`.

    :returns: the venv's ``python``.
    """
    import sysconfig

    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    known = _installed.get(version)
    if known is not None:
        return known
    venv = CACHE / f"installed-{version}"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(venv)],
            check=True,
        )
    site = subprocess.run(
        [
            str(python),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    deps = sysconfig.get_paths()["purelib"]
    Path(site, "_patchguard_test_deps.pth").write_text(deps + "\n")
    # A copy left by an earlier run (possibly under an older distribution
    # name) must not stay beside the fresh one.
    for stale in Path(site).glob("*patchguard*.dist-info"):
        shutil.rmtree(stale)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--force-reinstall",
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        cwd=CACHE,
    )
    _installed[version] = str(python)
    return str(python)


def run_installed(
    *cmd: str,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    cwd: str | Path | None = None,
) -> Result:
    """Run ``cmd`` with the installed patchguard and nothing of the
    checkout on ``sys.path`` (only ``tests/isolated`` for the scenario
    scripts' helpers); ``python`` as ``cmd[0]`` means
    :func:`installed_python`, and a bare name is a console script of that
    venv.

    :param cmd: the command line.
    :param env: variables added to the scrubbed environment.
    :param timeout: seconds before the run is killed.
    :param cwd: working directory (default: the venv, outside the checkout).
    :returns: the exit status and output.
    """
    python = Path(installed_python())
    first = str(python) if cmd[0] == "python" else str(python.parent / cmd[0])
    environ = clean_env(env)
    environ["PYTHONPATH"] = str(ISOLATED)
    proc = subprocess.run(
        [first, *cmd[1:]],
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or python.parent.parent,
        stdin=subprocess.DEVNULL,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
