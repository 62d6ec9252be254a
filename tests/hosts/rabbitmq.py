"""A throwaway RabbitMQ broker (Debian's ``rabbitmq-server``).

It runs in the foreground as the ``rabbitmq`` user with its own node
name, ports (AMQP, Erlang distribution, epmd), database and log directory
under a temporary directory, all bound to 127.0.0.1.  Stopping it is
``rabbitmqctl stop``, a wait on the server's PID, then ``epmd -kill`` for
the port mapper it started.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.hosts import (
    Unavailable,
    free_port,
    port_open,
    session_dir,
    stop,
    tail,
)

SBIN = Path("/usr/lib/rabbitmq/bin")
USER = "rabbitmq"
LOOPBACK_DIST = "-kernel inet_dist_use_interface {127,0,0,1}"


@dataclass
class Broker:
    """A running broker."""

    port: int
    node: str
    log: Path


def _tool(name: str) -> str:
    path = SBIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        raise Unavailable(
            f"{name} not found (apt-get install rabbitmq-server)"
        )
    return found


def _as_user(env: dict[str, str], *cmd: str) -> list[str]:
    settings = [f"{k}={v}" for k, v in sorted(env.items())]
    if os.geteuid() == 0:
        return ["runuser", "-u", USER, "--", "env", *settings, *cmd]
    return ["env", *settings, *cmd]


@contextlib.contextmanager
def rabbitmq(timeout: float = 120) -> Iterator[Broker]:
    """Start a broker on free 127.0.0.1 ports; stop it on exit.

    :raises Unavailable: when rabbitmq-server is not installed.
    """
    server = _tool("rabbitmq-server")
    ctl = _tool("rabbitmqctl")
    epmd = shutil.which("epmd")
    if epmd is None:
        raise Unavailable("epmd not found (erlang-base)")
    root = session_dir("rabbitmq-")
    for sub in ("home", "mnesia", "log"):
        (root / sub).mkdir()
    (root / "enabled_plugins").write_text("[].\n")
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam(USER)
        except KeyError as exc:
            raise Unavailable(f"no {USER} user") from exc
        for path in [root, *root.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)
    port, dist, epmd_port = free_port(), free_port(), free_port()
    node = f"patchguard-{os.getpid()}@localhost"
    env = {
        "HOME": str(root / "home"),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "RABBITMQ_NODENAME": node,
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(dist),
        "ERL_EPMD_PORT": str(epmd_port),
        "ERL_EPMD_ADDRESS": "127.0.0.1",
        "RABBITMQ_MNESIA_BASE": str(root / "mnesia"),
        "RABBITMQ_LOG_BASE": str(root / "log"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
        "RABBITMQ_PID_FILE": str(root / "rabbitmq.pid"),
        # No site configuration: only what is set here.
        "RABBITMQ_CONF_ENV_FILE": str(root / "none"),
        "RABBITMQ_CONFIG_FILE": str(root / "none"),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": LOOPBACK_DIST,
        "RABBITMQ_CTL_ERL_ARGS": LOOPBACK_DIST,
    }
    out = root / "server.out"
    with open(out, "wb") as log:
        proc = subprocess.Popen(
            _as_user(env, server),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=root,
            start_new_session=True,
        )

    def ctl_run(*args: str, limit: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _as_user(env, ctl, "-n", node, *args),
            capture_output=True,
            text=True,
            timeout=limit,
            cwd=root,
        )

    log_file = root / "log" / f"{node}.log"
    try:
        # The AMQP listener opens last in the boot; await_startup then
        # confirms (it re-checks only every 10 s, so it is not the poll).
        deadline = time.monotonic() + timeout
        while not port_open(port):
            if proc.poll() is not None:
                raise AssertionError(
                    f"rabbitmq-server exited with {proc.returncode}:\n"
                    f"{tail(out)}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"broker not listening after {timeout}s:\n{tail(out)}"
                )
            time.sleep(0.2)
        started = ctl_run("await_startup", "--timeout", "60", limit=90)
        assert started.returncode == 0, started.stdout + started.stderr
        yield Broker(port, node, log_file)
    finally:
        try:
            if proc.poll() is None:
                ctl_run("stop", limit=60)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(60)
            status = stop(proc, signal.SIGTERM, 30)
        finally:
            subprocess.run(
                _as_user(env, epmd, "-kill"),
                capture_output=True,
                timeout=30,
            )
            deadline = time.monotonic() + 15
            while port_open(epmd_port) and time.monotonic() < deadline:
                time.sleep(0.1)
        output = tail(out)
        shutil.rmtree(root, ignore_errors=True)
        assert not port_open(port), "the broker still listens after stop"
        assert not port_open(epmd_port), "epmd still listens after -kill"
        assert status in (0, -signal.SIGTERM), output
