"""uWSGI (the pip package's binary), serving the host app."""

from __future__ import annotations

import contextlib
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import ROOT
from tests.hosts import (
    HERE,
    Server,
    Unavailable,
    free_port,
    scrubbed_env,
    session_dir,
    spawn_logged,
    stop,
    wait_gone,
    wait_http,
)


def uwsgi_binary() -> str:
    """Return the uwsgi binary next to this interpreter.

    :raises Unavailable: when it is not installed.
    """
    local = Path(sys.executable).parent / "uwsgi"
    if local.exists():
        return str(local)
    found = shutil.which("uwsgi")
    if found is None:
        raise Unavailable("uwsgi is not installed (pip install -e '.[hosts]')")
    return found


@contextlib.contextmanager
def uwsgi_server(
    threads: int | None,
    mode: str | None = None,
    timeout: float = 60,
    env_extra: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Run ``uwsgi --master --processes 2 --die-on-term`` on 127.0.0.1.

    :param threads: ``--threads`` (with ``--enable-threads``), or
        ``None`` for single-threaded workers.
    :param mode: ``PATCHGUARD_MODE`` for the app, or ``None`` (auto).
    :param env_extra: more variables for the app (``PATCHGUARD_WATCHDOG``).
    """
    root = session_dir("uwsgi-")
    port = free_port()
    cmd = [
        uwsgi_binary(),
        "--http-socket",
        f"127.0.0.1:{port}",
        "--master",
        "--processes",
        "2",
        "--die-on-term",
        "--need-app",
        "--disable-logging",
        "--worker-reload-mercy",
        "10",
        "--reload-mercy",
        "10",
        "--wsgi-file",
        str(HERE / "service_app.py"),
        "--pythonpath",
        str(ROOT),
    ]
    if threads is not None:
        cmd += ["--threads", str(threads), "--enable-threads"]
    env = scrubbed_env()
    if mode is not None:
        env["PATCHGUARD_MODE"] = mode
    env.update(env_extra or {})
    log_path = root / "uwsgi.log"
    proc = spawn_logged(cmd, env, root, log_path)
    server = None
    try:
        state = wait_http(port, "/state", timeout, proc, log_path)
        server = Server(port, proc, log_path, state, {state["pid"]})
        yield server
    finally:
        status = stop(proc, signal.SIGTERM, 30)
        if server is not None:
            server.exit_status = status
            left = wait_gone(sorted(server.pids), 15)
            assert not left, f"uWSGI workers {left} outlived the master"
            # Keep the log for the test's exit checks, drop the rest.
            server.log_text = server.log.read_text(errors="replace")
        shutil.rmtree(root, ignore_errors=True)
