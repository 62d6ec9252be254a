"""What a ``fork()`` would strand or duplicate, in both modes.

A forked child has one thread: the one that forked.  Every other native
thread is gone, but the locks it held stay held and the executors that
own it wait for it forever (a ``ThreadPoolExecutor`` used before the fork
never runs another task in the child).  In eventlet mode the child also
gets a copy of the forking thread's hub, so its greenthreads and timers
run twice.  :func:`before_fork` (called by :mod:`patchguard._hooks.fork`)
names all of them in one :class:`~patchguard.ForkWarning`, once per
distinct set: each thread's name, target and the user's line that started
it, what breaks and the fix.

Greenthreads are counted only from the forking thread's own hub: a native
thread that runs a hub of its own is a native thread, never a greenthread.
``subprocess`` forks (fork + exec) never warn: the child runs nothing of
ours.
"""

from __future__ import annotations

import os
import sys

from patchguard._detectors import threads as _threads_audit
from patchguard._detectors import walk as _walk
from patchguard._hooks import threadwatch as _threadwatch

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType
    from typing import Any

#: packages whose frames are never "the user's fork" (they fork for it).
_LIBRARIES = tuple(
    os.sep + name + os.sep
    for name in ("multiprocessing", "eventlet", "cotyledon", "oslo_service")
)
#: thread sets already warned about (private; inherited by children).
_seen: set[frozenset[str]] = set()

#: targets of library threads that are expected at fork: cotyledon's
#: child supervisor waits on an Event that the child never touches.
_EXPECTED_TARGETS = ("ServiceManager._child_supervisor_thread",)

_BREAKS = (
    "In the child these threads do not exist: any lock they hold stays "
    "held (logging, imports, your own), and an executor that owns them "
    "never runs another task (submit().result() waits forever)."
)
_FIX = (
    "Fix: create pools and threads after forking (in the worker), or "
    "start workers with a spawn context "
    "(multiprocessing.get_context('spawn'))."
)

#: Added in eventlet mode, where the usual advice does not hold (checked
#: by tests/test_installed.py::test_fork_advice_names_what_works).
_EVENTLET_FIX = (
    " In an eventlet-mode parent use concurrent.futures."
    "ProcessPoolExecutor(mp_context=multiprocessing.get_context('spawn')) "
    "or multiprocessing.Process with the 'spawn' start method: "
    "multiprocessing.Pool hangs there with any start method, and "
    "'forkserver' is unavailable. For commands use patchguard.subproc."
)


def _registries() -> list[dict[int, Any]]:
    found = []
    for name in ("threading", "__original_module_threading"):
        module = sys.modules.get(name)
        active = getattr(module, "_active", None)
        if isinstance(active, dict):
            found.append(active)
    return found


def _running_site(frame: FrameType) -> str:
    code = frame.f_code
    func = getattr(code, "co_qualname", code.co_name)
    return f"running {func} at {code.co_filename}:{frame.f_lineno}"


def native_threads() -> list[_threads_audit.EarlyThread]:
    """List the OS threads other than the caller's that a fork strands.

    Read from ``sys._current_frames()`` (real OS threads, whatever
    eventlet patched) and named from :mod:`threading`'s registries (the
    patched and the original one).

    :returns: one record per thread, excluding expected library threads.
    """
    from patchguard import _state

    me = _state.real_thread_ident()
    registries = _registries()
    found = []
    for ident, frame in sys._current_frames().items():
        if ident == me:
            continue
        thread = None
        for active in registries:
            thread = active.get(ident)
            if thread is not None:
                break
        if thread is None:
            found.append(
                _threads_audit.EarlyThread(
                    "<hidden>", ident, None, _running_site(frame), None
                )
            )
            continue
        wrapped = getattr(
            getattr(thread, "_target", None), "__wrapped__", None
        )
        target = (
            _threads_audit._code_site(wrapped)
            if wrapped is not None
            else _threads_audit._target(thread)
        )
        if target is not None and target.startswith(_EXPECTED_TARGETS):
            continue
        found.append(
            _threads_audit.EarlyThread(
                str(thread.name),
                ident,
                bool(thread.daemon),
                target,
                _threadwatch.started_at(thread),
            )
        )
    return found


def _green_site(glet: object) -> str:
    frame = getattr(glet, "gr_frame", None)
    while frame is not None:
        name = frame.f_code.co_filename
        if "eventlet" not in name and "greenlet" not in name:
            code = frame.f_code
            return f"{code.co_name} at {code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return repr(glet)


def greenthreads() -> tuple[list[str], int]:
    """Return the forking thread's greenthreads and pending timers.

    Only this OS thread's hub counts (eventlet keeps one hub per thread
    in a real thread-local); nothing is created when it has none.

    :returns: ``(greenthread sites, number of pending timers)``.
    """
    hubs = sys.modules.get("eventlet.hubs")
    greenlet = sys.modules.get("greenlet")
    hub = getattr(getattr(hubs, "_threadlocal", None), "hub", None)
    if hub is None or greenlet is None:
        return [], 0
    import gc

    hub_greenlet = hub.greenlet
    current = greenlet.getcurrent()
    greens = [
        _green_site(obj)
        for obj in gc.get_objects()
        if isinstance(obj, greenlet.greenlet)
        and obj is not current
        and obj is not hub_greenlet
        and getattr(obj, "parent", None) is hub_greenlet
        and getattr(obj, "gr_frame", None) is not None
    ]
    timers = len(getattr(hub, "timers", ())) + len(
        getattr(hub, "next_timers", ())
    )
    return greens, timers


class _Held(_walk.Matcher):
    """Match native locks that are held right now (a fork copies them
    held, and no thread in the child will ever release them)."""

    def accept(self, value: object) -> bool:
        # ``_thread.lock`` and ``_thread.RLock`` say so in their repr:
        # ``<locked _thread.lock object at 0x...>``; there is no other
        # public way to ask whether another thread holds an RLock.
        return repr(value).startswith("<locked")


def held_locks() -> list[str]:
    """Name the module-level native locks held now (``svc.db.LOCK``,
    ``svc.registry.Registry.lock``): a fork now leaves each one held
    forever in the child.

    Looked for where :mod:`patchguard._detectors.walk` looks (globals,
    their containers, classes, defaults, closures) in user and library
    modules; the standard library resets its own locks at fork.

    :returns: ``module.where (kind)`` strings, sorted.
    """
    import _thread

    from patchguard._detectors import stale as _stale

    kinds: dict[type, str] = {
        _thread.LockType: "_thread.lock",
        _thread.RLock: "_thread.RLock",
    }
    match = _Held({}, kinds)
    return sorted(
        f"{module}.{where} ({label})"
        for module, where, label in _walk.walk(_stale.user_modules(), match)
    )


def _in_subprocess() -> bool:
    # _posixsubprocess runs the at-fork hooks when preexec_fn is given;
    # the child execs at once, so nothing it inherits ever runs.
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "_execute_child" and code.co_filename.endswith(
            "subprocess.py"
        ):
            return True
        frame = frame.f_back
    return False


def finding() -> Any:
    """Return the :class:`~patchguard.ForkWarning` finding for a fork now,
    or ``None`` when nothing would be stranded or duplicated or the same
    set was already reported.

    :returns: a :class:`~patchguard.warn.Finding` or ``None``.
    """
    natives = native_threads()
    greens, timers = greenthreads()
    if not (natives or greens or timers):
        return None
    key = frozenset(
        [f"{t.name}|{t.target}|{t.started_at}" for t in natives]
        + [f"green|{site}" for site in greens]
        + ([f"timers|{timers > 0}"] if timers else [])
    )
    if key in _seen:
        return None
    _seen.add(key)
    parts = []
    if natives:
        listed = "; ".join(t.describe() for t in natives)
        parts.append(
            f"{len(natives)} live native thread(s): {listed}. {_BREAKS}"
        )
    if greens:
        parts.append(
            f"{len(greens)} greenthread(s) of this thread's hub that will "
            f"run in both processes (a periodic task or heartbeat then "
            f"runs twice): {'; '.join(greens)}."
        )
    if timers:
        parts.append(f"{timers} pending hub timer(s) duplicated in the child.")
    from patchguard import _state, warn

    fix = _FIX
    if _state.state().mode == "eventlet" or _state.patched_options():
        fix += _EVENTLET_FIX
    return warn.Finding(
        warn.ForkWarning, "fork() with " + " ".join(parts) + " " + fix
    )


def before_fork(from_wrapper: bool) -> None:
    """Warn (at the user's line) about what this fork strands.

    :param from_wrapper: True when called from the ``os.fork`` wrapper
        (the warning may raise under ``-W error``), False from the
        at-fork hook.
    """
    if _in_subprocess():
        return
    found = finding()
    if found is None:
        return
    from patchguard import _state, _where, warn

    current = _state.state()
    # Name the user's line and the library frame that forked for it
    # (``app.py:9 (via cotyledon/_service_manager.py:N)``).
    caller = sys._getframe(1)
    site = _where.describe(_where.culprit(caller))
    if site is not None:
        found.message = found.message.replace(
            "fork() with ", f"fork() called at {site} with ", 1
        )
    user, _library = _where.culprit_frames(caller)
    frame = user or _where.user_frame(skip_also=_LIBRARIES)
    if frame is not None:
        found.location = f"{frame.f_code.co_filename}:{frame.f_lineno}"
    current.findings.append(found)
    warn.emit([found], frame)
