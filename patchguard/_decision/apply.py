"""Apply the decision: patch (or guard native mode) exactly once.

:func:`apply` is what ``import patchguard.bootstrap`` runs.  It is safe to
call from several threads at once: the first caller decides and patches
under a lock, the others wait and then get the same state.
"""

from __future__ import annotations

import _thread
import os
import sys

from patchguard import _state, _where
from patchguard._decision import log as _log
from patchguard._decision import policy as _policy
from patchguard._errors import ConfigError
from patchguard._hooks import eventlet_import as _eventlet_import
from patchguard._hooks import oslo_backend as _oslo_backend

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from patchguard.warn import Finding

# Allocated at import, before any patching, so it is a real OS-level lock:
# threads racing to bootstrap must block natively, never on the hub.
_lock = _thread.allocate_lock()
# Guards the two below; real for the same reason.
_count_lock = _thread.allocate_lock()
#: Names of the threads inside :func:`apply` before the decision is made.
_entered: list[str] = []
#: The thread eventlet is patching from, while it patches.
_busy: list[str] = []
#: Threads refused for bootstrapping off the main thread alongside others;
#: sticky (the last straggler of a race is alone but still racing) until
#: the main thread bootstraps.
_refused: list[str] = []


def _off_main_company() -> list[str] | None:
    """Return the other live threads when called off the main thread, or
    ``None`` on the main thread (or before :mod:`threading` exists)."""
    threading = sys.modules.get("threading")
    if threading is None:
        return None
    me = threading.current_thread()
    main = threading.main_thread()
    if me is main:
        return None
    return [t.name for t in threading.enumerate() if t not in (me, main)]


def _refuse_concurrent(me: str, others: list[str]) -> None:
    # Patching from a thread other than the main thread while other
    # threads run (several threads bootstrapping at once is the usual
    # way) leaves those native threads on green locks and the main
    # thread's hub waiting forever: the process cannot exit (issue 11
    # §4).  Nothing is patched yet, so refusing leaves the process as it
    # was, and the message says how to bootstrap once.
    from patchguard._errors import PatchOrderError

    raise PatchOrderError(
        f"patchguard.apply() in eventlet mode from thread {me!r}, not the "
        f"main thread, while other threads run "
        f"({', '.join(sorted(set(others)))}), as when several threads "
        f"bootstrap at once: patching now leaves them as native threads on "
        f"green locks, and the process cannot exit. Nothing was patched. "
        f"Fix: bootstrap once, from the main thread, before starting "
        f"threads (`import patchguard.bootstrap` as the first import of "
        f"the entry point)."
    )


def _again(
    current: _state.PatchState, decision: _policy.Decision
) -> _state.PatchState:
    if decision.mode == current.mode and (
        decision.mode == "native" or decision.options == current.requested
    ):
        return current
    if decision.decided_by == "default" and current.mode == "native":
        # This call has no opinion on the mode (no argument, no variable,
        # no detection, no default of its own): the earlier native
        # decision stands.  ``patchguard run`` decides native before a
        # target whose entry point does ``import patchguard.bootstrap``.
        return current
    raise ConfigError(
        f"patchguard already decided mode={current.mode} "
        f"patch={','.join(sorted(current.requested)) or 'none'} "
        f"(decided_by={current.decided_by} at {current.site}); this call "
        f"asks for mode={decision.mode} "
        f"patch={','.join(sorted(decision.options)) or 'none'} "
        f"(decided_by={decision.decided_by}). A process has one mode: make "
        f"both places agree."
    )


def _earlier_calls() -> list[str]:
    eventlet_hooks = sys.modules.get("patchguard._hooks.eventlet")
    if eventlet_hooks is None:
        return []
    return [c.describe() for c in eventlet_hooks.calls if c.mode == "unset"]


def _refuse_native_if_green(decision: _policy.Decision) -> None:
    # Something patched before the bootstrap: the process cannot be native
    # any more, and saying it is would be the lie patchguard exists to stop.
    if decision.mode != "native":
        return
    green = _state.patched_options()
    if not green:
        return
    from patchguard._errors import PatchOrderError

    culprits = "; ".join(_earlier_calls()) or "code patchguard did not see"
    raise PatchOrderError(
        f"cannot run native (decided_by={decision.decided_by}): the process "
        f"was already patched ({','.join(sorted(green))}) by {culprits}. "
        f"Remove that call, or make `import patchguard.bootstrap` the first "
        f"import so the mode is decided before anything patches."
    )


def _native_after_record(new: _state.PatchState) -> None:
    # Recorded first: the THREADING selection below checks the mode, and
    # the eventlet-import finding reads the allow-list from the state.
    _oslo_backend.select("native")
    if "eventlet" in sys.modules:
        found = _eventlet_import.finding_now()
        if found is not None:
            new.findings.append(found)


def _entry_package() -> str | None:
    # The module whose import runs the bootstrap (nova.cmd.compute) names
    # the project; a script run as __main__ names it by its spec, or by
    # its console-script name (``cinder-volume``).
    frame = _where.user_frame()
    name = frame.f_globals.get("__name__") if frame is not None else None
    if name == "__main__":
        spec = frame.f_globals.get("__spec__") if frame else None
        name = getattr(spec, "name", None)
        if not name and sys.argv and sys.argv[0]:
            name = os.path.basename(sys.argv[0]).split("-")[0]
    if not isinstance(name, str) or not name:
        return None
    return name.split(".")[0]


def _decide(
    mode: object, patch: object, project: object, default: object
) -> _policy.Decision:
    return _policy.decide(
        os.environ, mode, patch, project, default, _entry_package()
    )


def _stray_findings(decision: _policy.Decision, site: str) -> list[Finding]:
    if not decision.stray:
        return []
    from patchguard import warn

    listed = ", ".join(
        f"{var}={os.environ.get(var, '')!r}" for var in decision.stray
    )
    guess = decision.stray[0][3 : -len("_DISABLE_EVENTLET_PATCHING")].lower()
    return [
        warn.Finding(
            warn.PatchGuardWarning,
            f"{listed} is set but not read: no project is known "
            f"(PATCHGUARD_PROJECT is unset and the entry point's package "
            f"{_entry_package()!r} is not that project), so the mode was "
            f"decided by {decision.decided_by} ({decision.mode}). Fix: "
            f"set PATCHGUARD_PROJECT={guess} or pass "
            f"apply(project={guess!r}).",
            site,
        )
    ]


def apply(
    mode: str | None = None,
    patch: str | Iterable[str] | Mapping[str, bool] | None = None,
    project: str | None = None,
    default: str | None = None,
) -> _state.PatchState:
    """Decide the mode, patch (or guard native mode), and record the state.

    :param mode: ``"eventlet"`` or ``"native"`` forces the mode regardless
        of the environment; ``None``/``"auto"`` leaves it to the
        environment.
    :param patch: eventlet options (``"all,-thread"``, ``"socket,time"``,
        a list of names, or a dict such as ``{"thread": False}`` read as
        eventlet reads ``monkey_patch(thread=False)``) used when
        ``PATCHGUARD_PATCH`` is unset.  It is validated even when the
        variable is set, and must select at least one standard library
        module.
    :param project: project name (``"nova"``) used when
        ``PATCHGUARD_PROJECT`` is unset, to honour
        ``OS_<PROJECT>_DISABLE_EVENTLET_PATCHING`` (validated even when
        the variable is set).
    :param default: the entry point's fallback mode when nothing in the
        environment decides (replaces eventlet as the last resort).
    :returns: the recorded :class:`~patchguard.PatchState`.
    :raises ConfigError: on an invalid setting (nothing is patched), or
        when the process already runs in a different mode.
    :raises PatchOrderError: in strict mode, when threads or stale
        references would make patching unsafe (nothing is patched); in
        eventlet mode, when several threads call it at once (every caller
        is refused and nothing is patched: bootstrap once, from the main
        thread, before starting threads).
    """
    current = _state.state()
    if current.mode != "unset":
        return _again(current, _decide(mode, patch, project, default))
    me = _where.thread_name()
    with _count_lock:
        if _busy:
            # Eventlet is patching from another thread: do not wait.
            _refuse_concurrent(me, list(_busy))
        _entered.append(me)
    try:
        return _apply_locked(me, mode, patch, project, default)
    finally:
        with _count_lock:
            _entered.remove(me)
            _busy.clear()


def _apply_locked(
    me: str,
    mode: object,
    patch: object,
    project: object,
    default: object,
) -> _state.PatchState:
    with _lock:
        current = _state.state()
        if current.mode != "unset":
            return _again(current, _decide(mode, patch, project, default))
        decision = _decide(mode, patch, project, default)
        _refuse_native_if_green(decision)
        # oslo.service already running the other backend: refuse before
        # anything patches (nothing has been changed yet).
        _oslo_backend.agree(decision.mode)
        if decision.mode == "eventlet":
            others = _off_main_company()
            with _count_lock:
                if others is None:
                    _refused.clear()
                elif others or _refused or len(_entered) > 1:
                    _refused.extend(_entered)
                    _refuse_concurrent(me, [*others, *_refused])
                _busy.append(me)
        new = _state.PatchState(
            decision, _where.user_site(), _where.thread_name()
        )
        new.findings.extend(_stray_findings(decision, str(new.site)))
        # Read before patching: still the real OS thread ident.
        new.hub_thread = _state.real_thread_ident()
        # What a bare monkey_patch() before us found stays true (and was
        # already warned about at its line): carry it over.
        new.early_threads = list(current.early_threads)
        new.stale_refs = list(current.stale_refs)
        new.foreign_threads = list(current.foreign_threads)
        earlier = list(current.findings)
        if decision.mode == "eventlet":
            from patchguard import warn
            from patchguard._detectors import audit as _audit
            from patchguard._hooks import eventlet as _eventlet

            _eventlet.load()  # before the audit imports eventlet.green
            _audit.run(new, lambda: _eventlet.patch(decision.options))
            new.early_threads = current.early_threads + new.early_threads
            new.stale_refs = list(current.stale_refs) + new.stale_refs
            for call in _earlier_calls():
                new.findings.append(
                    warn.Finding(
                        warn.LatePatchWarning,
                        f"{call} patched the process before patchguard's "
                        f"bootstrap at {new.site}: whatever ran before it "
                        f"was never audited. Fix: remove the call and make "
                        f"`import patchguard.bootstrap` the first import.",
                        new.site,
                    )
                )
            from patchguard._hooks import logging_locks as _logging_locks

            _logging_locks.install()
            _oslo_backend.select("eventlet")
        elif decision.debugger is not None and (
            decision.decided_by.startswith("debugger:")
        ):
            # One friendly line: under a debugger nobody reads the log.
            sys.stderr.write(
                f"patchguard: {decision.debugger} debugger detected, running "
                f"native (set PATCHGUARD_MODE=eventlet to force eventlet)\n"
            )
        _state.record(new)
        if decision.mode == "native":
            _native_after_record(new)
        new.findings.extend(_oslo_backend.findings(new.mode))
        # Only what this decision found is warned about here; what a bare
        # call found before it was warned at that call's line.
        seen = {e.message for e in earlier}
        fresh = [f for f in new.findings if f.message not in seen]
        new.findings[:] = earlier + fresh
    _log.decision(new)
    if decision.watchdog is not None:
        # After patching and recording: the watchdog needs the hub (and
        # the mode) to know what to watch.  Not armed: the imports that
        # follow a bootstrap, before the hub first runs, are no stall.
        from patchguard._watchdog import monitor as _watchdog

        if _watchdog.current is None:
            _watchdog.start(
                decision.watchdog, decision.watchdog_task, armed=False
            )
    if fresh:
        from patchguard import warn

        warn.emit(fresh, _where.user_frame())
    return new
