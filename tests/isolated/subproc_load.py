"""Load scenarios for patchguard.subproc.

Usage: ``subproc_load.py SCENARIO hub|thread`` with ``PATCHGUARD_MODE``.

* ``batch``: 20 concurrent ``sleep 1`` through ``run``.
* ``bigout``: 50 MB on stdout and 50 MB on stderr at once.
* ``tree``: a timeout on ``sh -c 'sleep 30 & sleep 30'`` (run, execute,
  check_output), then look for any process carrying the run's marker.
* ``many``: 1,000 timed-out runs (0.01 s), then count zombies and
  descriptors.
* ``fallback``: ``batch`` with pidfds turned off (waitpid back-off).
"""

import os
import subprocess
import sys
import time
import uuid

from subproc_common import (
    GREEN,
    WHERE,
    Ticker,
    children,
    emit,
    fds,
    kind,
    marked,
    nap,
    run_here,
    spawn_all,
)

from patchguard import subproc

SCENARIO = sys.argv[1]
MB50 = 50 * 1024 * 1024


def batch(count: int = 20, seconds: str = "1") -> dict:
    """Run ``count`` concurrent ``sleep`` commands; time the batch."""
    start = time.monotonic()
    codes = spawn_all(
        lambda i: subproc.run(["sleep", seconds]).returncode, count
    )
    return {"elapsed": time.monotonic() - start, "codes": codes}


def bigout() -> dict:
    """Capture 50 MB from stdout and stderr written at the same time."""
    start = time.monotonic()
    result = subproc.run(
        [
            "sh",
            "-c",
            f"head -c {MB50} /dev/zero & head -c {MB50} /dev/zero >&2; wait",
        ],
        capture_output=True,
        timeout=60,
    )
    return {
        "elapsed": time.monotonic() - start,
        "stdout": len(result.stdout),
        "stderr": len(result.stderr),
        # Ends only: a full scan of 100 MB would itself hold the GIL
        # (and so the hub) for ~0.2 s.
        "ends_zero": all(
            out[:4096] == out[-4096:] == bytes(4096)
            for out in (result.stdout, result.stderr)
        ),
        "rc": result.returncode,
    }


def tree() -> dict:
    """Time out a shell with a background child; look for survivors."""
    facts: dict = {}
    calls = {
        "run": lambda env: subproc.run(
            ["sh", "-c", "sleep 30 & sleep 30"],
            capture_output=True,
            timeout=0.5,
            env=env,
        ),
        "check_output": lambda env: subproc.check_output(
            ["sh", "-c", "sleep 30 & sleep 30"], timeout=0.5, env=env
        ),
        "execute": lambda env: subproc.execute(
            "sh", "-c", "sleep 30 & sleep 30", timeout=0.5, env=env
        ),
    }
    for name, call in calls.items():
        marker = f"PATCHGUARD_TREE_{uuid.uuid4().hex}"
        env = dict(os.environ, **{marker: "1"})
        start = time.monotonic()
        try:
            call(env)
            raised = None
        except BaseException as exc:  # described below
            raised = kind(exc)
        elapsed = time.monotonic() - start
        # SIGKILL is delivered asynchronously: give the kernel a moment.
        deadline = time.monotonic() + 5
        while marked(marker) and time.monotonic() < deadline:
            nap(0.05)
        facts[name] = {
            "raised": raised,
            "elapsed": elapsed,
            "survivors": marked(marker),
        }
    facts["children"] = children()
    return facts


def many(total: int = 1000, workers: int = 20) -> dict:
    """Time out ``total`` runs over ``workers`` concurrent workers."""
    outcomes: dict = {}

    def worker(i: int) -> None:
        for _ in range(total // workers):
            try:
                subproc.run(["sleep", "5"], capture_output=True, timeout=0.01)
                outcome = "completed"
            except subprocess.TimeoutExpired:
                outcome = "TimeoutExpired"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

    listening_before = hub_fds()
    start = time.monotonic()
    spawn_all(worker, workers)
    return {
        "elapsed": time.monotonic() - start,
        "outcomes": outcomes,
        "children": children(),
        # Every timed-out transfer took its pipes off the hub.
        "hub_fds_left": sorted(set(hub_fds()) - set(listening_before)),
    }


def hub_fds() -> list[int]:
    """Descriptors the hub listens on (eventlet mode, on its thread: a
    native thread must not make a hub of its own by asking)."""
    if not GREEN or WHERE != "hub":
        return []
    from eventlet import hubs

    hub = hubs.get_hub()
    return sorted({*hub.listeners[hub.READ], *hub.listeners[hub.WRITE]})


def fallback() -> dict:
    """Wait by back-off instead of pidfds; still concurrent and correct."""
    from patchguard._subproc import popen

    popen._PIDFD = False
    if GREEN:
        from patchguard._subproc import hubwait

        hubwait._PIDFD = False
    facts = batch(count=10, seconds="0.5")
    try:
        subproc.run(["sleep", "5"], timeout=0.1)
    except subprocess.TimeoutExpired as exc:
        facts["timeout"] = kind(exc)
    facts["children"] = children()
    return facts


SCENARIOS = {
    "batch": batch,
    "bigout": bigout,
    "tree": tree,
    "many": many,
    "fallback": fallback,
}

subproc.run(["true"], capture_output=True)  # warm-up: one-time setup
with Ticker() as ticker:
    before = fds()
    facts, hub_made = run_here(SCENARIOS[SCENARIO])
    after = fds()
facts["backend"] = subproc.backend() if sys.argv[2] == "hub" else "thread"
facts["hub_made"] = hub_made
facts["max_gap"] = ticker.max_gap
facts["leaked_fds"] = sorted(set(after) - set(before))
emit(facts)
