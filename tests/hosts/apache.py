"""Apache httpd with mod_wsgi, run by ``mod_wsgi-express``.

Apache's children run as www-data, which cannot read pyenv's Pythons under
/root, so mod_wsgi is built against Debian's own ``/usr/bin/python3`` in a
cached venv under /tmp, and each server gets a readable copy of the
current patchguard source on its Python path.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

from tests.hosts import (
    Server,
    Unavailable,
    cached_venv,
    copy_source,
    free_port,
    install_requires,
    scrubbed_env,
    session_dir,
    spawn_logged,
    stop,
    tail,
    wait_gone,
    wait_http,
)

DEBIAN_PYTHON = "/usr/bin/python3"
APACHE = "/usr/sbin/apache2"
USER = "www-data"


def modwsgi_venv() -> Path:
    """Return the cached Debian-Python venv with mod_wsgi and the deps.

    :raises Unavailable: when Apache, its headers or Debian's Python are
        missing, or the build fails.
    """
    if not Path(APACHE).exists():
        raise Unavailable(f"{APACHE} not found (apt-get install apache2)")
    if not (shutil.which("apxs") or shutil.which("apxs2")):
        raise Unavailable("apxs not found (apt-get install apache2-dev)")
    if not Path(DEBIAN_PYTHON).exists():
        raise Unavailable(f"{DEBIAN_PYTHON} not found (python3-venv)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(USER)
        except KeyError as exc:
            raise Unavailable(f"no {USER} user for Apache") from exc
    return cached_venv(
        "modwsgi", DEBIAN_PYTHON, ["mod_wsgi", *install_requires()]
    )


def readable_source() -> Path:
    """A www-data-readable copy of patchguard and the host apps."""
    return copy_source(session_dir("src-"))


@contextlib.contextmanager
def mod_wsgi_express(
    venv: Path,
    src: Path,
    *,
    mpm: str,
    embedded: bool,
    mode: str | None = None,
    tickers: bool = False,
    timeout: float = 90,
    env_extra: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Run ``mod_wsgi-express start-server`` on 127.0.0.1 until exit.

    :param mpm: ``"prefork"`` or ``"event"``.
    :param embedded: embedded mode instead of daemon mode.
    :param mode: ``PATCHGUARD_MODE`` for the app, or ``None`` (auto).
    :param tickers: start the app's background tickers.
    :param env_extra: more variables for the app (``PATCHGUARD_WATCHDOG``).
    """
    express = venv / "bin" / "mod_wsgi-express"
    root = session_dir(f"apache-{mpm}-")
    port = free_port()
    cmd = [
        str(express),
        "start-server",
        str(src / "service_app.py"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--server-root",
        str(root),
        "--python-path",
        str(src),
        "--server-mpm",
        mpm,
        "--locale",
        "C.UTF-8",
        "--startup-timeout",
        "30",
        "--processes",
        "2",
        "--threads",
        "10",
    ]
    if embedded:
        cmd.append("--embedded-mode")
    if os.geteuid() == 0:
        cmd += ["--user", USER, "--group", USER]
    env = scrubbed_env()
    if mode is not None:
        env["PATCHGUARD_MODE"] = mode
    if tickers:
        env["PATCHGUARD_TEST_TICKERS"] = "1"
    env.update(env_extra or {})
    out = root / "express.log"
    proc = spawn_logged(cmd, env, root, out)
    server = None
    try:
        state = wait_http(port, "/state", timeout, proc, root / "error_log")
        server = Server(port, proc, root / "error_log", state, {state["pid"]})
        yield server
    finally:
        status = stop(proc, signal.SIGTERM, 30)
        if server is not None:
            server.exit_status = status
            left = wait_gone(sorted(server.pids), 15)
            assert not left, (
                f"Apache children {left} outlived the parent:\n"
                f"{tail(root / 'error_log')}"
            )
            server.log_text = server.log.read_text(errors="replace")
        shutil.rmtree(root, ignore_errors=True)
