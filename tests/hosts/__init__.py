"""Real servers for the host tests: build, start, load, stop.

Every server listens on 127.0.0.1 only, is started under a timeout, and is
stopped by its PID and waited for.  A component that cannot be installed
raises :class:`Unavailable` with the reason; the test turns it into
``pytest.skip(reason)`` so a missing server is never a silent pass.

Built environments (the Debian-Python venv with mod_wsgi, the 3.13 venv
for debugpy) are cached under ``/tmp/patchguard-hosts``, keyed by what
went into them, so only the first run on a machine pays for the build.
"""

from __future__ import annotations

import configparser
import contextlib
import fcntl
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers import ROOT

HERE = Path(__file__).resolve().parent
CACHE = Path(tempfile.gettempdir()) / "patchguard-hosts"


class Unavailable(Exception):
    """A server or tool cannot be installed or started here (skip)."""


# -- processes ---------------------------------------------------------


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    """Return whether something accepts connections on 127.0.0.1:port."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def pid_alive(pid: int) -> bool:
    """Return whether ``pid`` exists (and is not a zombie of ours)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pids: Iterator[int] | list[int], timeout: float) -> list[int]:
    """Wait until every pid is gone; return those still alive."""
    pending = list(pids)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        pending = [p for p in pending if pid_alive(p)]
        if pending:
            time.sleep(0.1)
    return pending


def stop(proc: subprocess.Popen[Any], sig: int, timeout: float) -> int:
    """Send ``sig`` to ``proc`` by PID and wait for it.

    If it does not exit in time it is killed (with its process group,
    which it leads: every server is started with ``start_new_session``),
    and the test fails on the returned status.

    :returns: the exit status (negative: killed by that signal).
    """
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, sig)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
            raise AssertionError(
                f"pid {proc.pid} ignored signal {sig} for {timeout}s; killed"
            ) from None
    return proc.returncode


def spawn_logged(
    cmd: list[str], env: dict[str, str], cwd: Path, log_path: Path
) -> subprocess.Popen[bytes]:
    """Start a server in its own session with stdout+stderr in a log file.

    Its own session lets :func:`stop` signal the whole server (master and
    workers) by process group.
    """
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )


def tail(path: Path, lines: int = 40) -> str:
    """Return the last ``lines`` lines of a log file (or a note)."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<{path}: {exc}>"
    return "\n".join(text.splitlines()[-lines:])


def http_json(port: int, path: str, timeout: float = 10) -> Any:
    """GET ``http://127.0.0.1:port/path`` and parse the JSON body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    if resp.status != 200:
        raise AssertionError(f"GET {path}: {resp.status} {body[:300]!r}")
    return json.loads(body)


def wait_http(
    port: int,
    path: str,
    timeout: float,
    proc: subprocess.Popen[Any],
    log: Path,
) -> Any:
    """Poll until ``path`` answers 200 with JSON; fail with the log."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"server exited with {proc.returncode} before answering:\n"
                f"{tail(log)}"
            )
        try:
            return http_json(port, path, timeout=5)
        except (OSError, AssertionError, ValueError) as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(
        f"no answer on 127.0.0.1:{port}{path} in {timeout}s ({last!r}):\n"
        f"{tail(log)}"
    )


@dataclass
class Load:
    """What :func:`load` measured."""

    ok: int
    errors: int
    samples: list[str]
    seconds: float
    pids: list[int] = field(default_factory=list)


def load(
    port: int, mode: str, total: int = 1000, concurrency: int = 20
) -> Load:
    """Send ``total`` requests, ``concurrency`` at a time, and count.

    The client runs in its own interpreter (``tests/hosts/load.py``); a
    response only counts as ok when it is a 200 whose JSON reports
    ``mode``.
    """
    proc = subprocess.run(
        [
            sys.executable,
            str(HERE / "load.py"),
            str(port),
            mode,
            str(total),
            str(concurrency),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        raise AssertionError(f"load client failed:\n{proc.stderr}")
    data = json.loads(proc.stdout.splitlines()[-1])
    return Load(**data)


@dataclass
class Server:
    """A running server: where it listens and what it has logged."""

    port: int
    proc: subprocess.Popen[Any]
    #: where the app's stderr (warnings, tracebacks) ends up.
    log: Path
    state: dict[str, Any]
    pids: set[int] = field(default_factory=set)
    exit_status: int | None = None
    #: the log's text, kept when the server's directory is removed.
    log_text: str = ""


def session_dir(prefix: str) -> Path:
    """A fresh directory other users (www-data) can read and enter."""
    ensure_readable_dir(CACHE)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=CACHE))
    path.chmod(0o755)
    return path


def ensure_readable_dir(path: Path) -> None:
    """Create ``path``; make it and its parents enterable by others."""
    path.mkdir(parents=True, exist_ok=True)
    for part in [path, *path.parents]:
        mode = part.stat().st_mode
        if part == path:
            part.chmod(stat.S_IMODE(mode) | 0o755)
        elif not mode & stat.S_IXOTH:
            raise Unavailable(
                f"{part} is not enterable by other users, so Apache's "
                f"www-data cannot reach {path}"
            )


def make_readable(path: Path) -> None:
    """``chmod -R a+rX path``."""
    for root, dirs, files in os.walk(path):
        for name in dirs:
            p = Path(root, name)
            p.chmod(stat.S_IMODE(p.stat().st_mode) | 0o755)
        for name in files:
            p = Path(root, name)
            if not p.is_symlink():
                p.chmod(stat.S_IMODE(p.stat().st_mode) | 0o444)
    path.chmod(stat.S_IMODE(path.stat().st_mode) | 0o755)


def copy_source(dest: Path) -> Path:
    """Copy the patchguard package and the host apps into ``dest``.

    Servers that run as another user get a readable copy of the current
    source rather than the checkout (which may sit under /root).

    :returns: the directory to put on the server's Python path.
    """
    shutil.copytree(
        ROOT / "patchguard",
        dest / "patchguard",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for name in ("service_app.py",):
        shutil.copy(HERE / name, dest / name)
    make_readable(dest)
    return dest


def scrubbed_env(**extra: str) -> dict[str, str]:
    """The environment minus patchguard's switches, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("PATCHGUARD_", "OS_", "DEBUGPY_", "PYTEST_", "PYTHONPATH")
        )
        and "DISABLE_EVENTLET_PATCHING" not in k
    }
    env.update(extra)
    return env


# -- cached environments -------------------------------------------------


def install_requires() -> list[str]:
    """patchguard's runtime requirements, read from setup.cfg."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    raw = cfg.get("options", "install_requires", fallback="")
    return [line.strip() for line in raw.splitlines() if line.strip()]


@contextlib.contextmanager
def _build_lock(name: str) -> Iterator[None]:
    ensure_readable_dir(CACHE)
    with open(CACHE / f"{name}.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def cached_venv(
    name: str, python: str, packages: list[str], timeout: float = 900
) -> Path:
    """Return a venv of ``python`` with ``packages``, building it once.

    The cache key hashes the interpreter's version and the package list,
    so a change to setup.cfg's requirements builds a new one.

    :raises Unavailable: when the venv or the packages cannot be made.
    """
    try:
        version = subprocess.run(
            [python, "-c", "import sys; print(sys.version)"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise Unavailable(f"{python} does not run: {exc}") from exc
    key = hashlib.sha256(
        "\n".join([python, version, *packages]).encode()
    ).hexdigest()[:12]
    root = CACHE / f"{name}-{key}"
    venv_python = root / "venv" / "bin" / "python"
    ready = root / ".ready"
    if ready.exists():
        return root / "venv"
    with _build_lock(name):
        if ready.exists():
            return root / "venv"
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        steps = [
            [python, "-m", "venv", str(root / "venv")],
            [
                str(venv_python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                *packages,
            ],
        ]
        for cmd in steps:
            try:
                proc = subprocess.run(
                    cmd, capture_output=True, text=True, timeout=timeout
                )
            except subprocess.TimeoutExpired as exc:
                raise Unavailable(
                    f"{' '.join(cmd[:4])}... took over {timeout}s"
                ) from exc
            if proc.returncode != 0:
                raise Unavailable(
                    f"{' '.join(cmd[:6])} failed: "
                    f"{(proc.stderr or proc.stdout).strip()[-800:]}"
                )
        make_readable(root)
        ready.touch()
    return root / "venv"
