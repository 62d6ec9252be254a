"""Same inputs, same answers: patchguard's callables or the stdlib's.

Usage: ``parity.py SIDE hub|thread`` with ``PATCHGUARD_MODE`` set and a
JSON list of cases on stdin: ``[kind, pickled-argument-as-hex]``.  SIDE
``stdlib`` runs the stdlib / ``processutils`` / ``threading`` counterpart
(in a native process: the reference), ``ours`` runs patchguard's.  Prints
``{"outcomes": [...]}``: ``"ok"`` or the exception class name per case.

In eventlet mode, ``ours`` also records every timer the hub holds while
the waits are parked (``hub_timers``), to prove that none is non-finite
or longer than the hub can wait.
"""

import json
import pickle
import sys

from subproc_common import GREEN, emit, run_here

SIDE = sys.argv[1]
CASES = json.load(sys.stdin)
#: a command that takes a moment: tiny timeouts expire, long ones do not.
SLOW = ["sleep", "0.05"]


def _lib():  # type: ignore[no-untyped-def]
    """The modules under test: patchguard's, or the stdlib's."""
    if SIDE == "ours":
        from patchguard import subproc, threads

        return subproc, threads.SharedRLock, threads.Handoff
    import queue
    import subprocess
    import threading

    return subprocess, threading.RLock, queue.Queue


def _held(lock_class):  # type: ignore[no-untyped-def]
    """A lock another OS thread acquired (and never releases)."""
    lock = lock_class()
    if GREEN:
        from eventlet import patcher

        threading = patcher.original("threading")
    else:
        import threading
    holder = threading.Thread(target=lock.acquire)
    holder.start()
    holder.join()
    return lock


def call(kind: str, arg: object) -> object:
    """Run one case."""
    sub, rlock, fifo = _lib()
    if kind == "run":
        return sub.run(SLOW, timeout=arg).returncode
    if kind == "run_pipe":
        return sub.run(SLOW, capture_output=True, timeout=arg).returncode
    if kind == "call":
        return sub.call(SLOW, timeout=arg)
    if kind == "check_output":
        return sub.check_output(SLOW, timeout=arg)
    if kind == "wait":
        with sub.Popen(SLOW) as proc:
            try:
                return proc.wait(timeout=arg)
            finally:
                proc.kill()
    if kind == "communicate":
        with sub.Popen(SLOW, stdout=sub.PIPE) as proc:
            try:
                return proc.communicate(timeout=arg)
            finally:
                proc.kill()
    if kind.startswith("execute"):
        status = kind.split("_")[1]
        argv = ["sh", "-c", f"exit {status}"]
        if SIDE == "ours":
            return sub.execute(*argv, check_exit_code=arg)
        from oslo_concurrency import processutils

        return processutils.execute(*argv, check_exit_code=arg)
    if kind == "acquire":
        return rlock().acquire(timeout=arg)
    if kind == "acquire_nb":
        return rlock().acquire(False, arg)
    if kind == "acquire_held":
        return _held(rlock).acquire(True, arg)
    if kind == "get":
        return fifo().get(True, arg)
    if kind == "get_full":
        box = fifo()
        box.put(1)
        return box.get(True, arg)
    raise AssertionError(kind)


def outcome(kind: str, arg: object) -> str:
    """``"ok"`` or the class name of what the case raised."""
    try:
        call(kind, arg)
    except Exception as exc:  # the outcome is what we compare
        return type(exc).__name__
    return "ok"


def body() -> dict:
    """Run every case where argv asked; in eventlet mode watch the hub."""
    return {
        "outcomes": [
            outcome(kind, pickle.loads(bytes.fromhex(arg)))  # noqa: S301
            for kind, arg in CASES
        ]
    }


def hub_timers() -> list:
    """Park long waits on the hub; return every timer's delay then."""
    import eventlet
    from eventlet import hubs

    from patchguard import subproc, threads

    lock = _held(threads.SharedRLock)
    box = threads.Handoff()
    forever = float("inf")
    waits = [
        lambda: lock.acquire(True, 5e6),  # > 24.8 days, < TIMEOUT_MAX
        lambda: box.get(True, 5e6),
        lambda: subproc.run(["sleep", "0.3"], timeout=forever),
        lambda: subproc.run(
            ["sleep", "0.3"], capture_output=True, timeout=1e9
        ),
        lambda: subproc.check_output(["sleep", "0.3"], timeout=forever),
        lambda: subproc.Popen(["sleep", "0.3"]).wait(timeout=forever),
    ]
    pool = [eventlet.spawn(w) for w in waits]
    eventlet.sleep(0.1)
    hub = hubs.get_hub()
    now = hub.clock()
    delays = [when - now for when, _ in hub.timers]
    delays += [t.seconds for t in getattr(hub, "next_timers", [])]
    box.put(1)
    for g in pool[1:]:
        g.wait()
    pool[0].kill()
    eventlet.sleep(0.01)  # the hub still waits normally
    return delays


facts, hub_made = run_here(body)
facts["hub_made"] = hub_made
if GREEN and SIDE == "ours" and sys.argv[2] == "hub":
    facts["hub_timers"] = hub_timers()
emit(facts)
