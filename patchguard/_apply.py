"""Apply the decision: patch (or guard native mode) exactly once.

:func:`apply` is what ``import patchguard.bootstrap`` runs.  It is safe to
call from several threads at once: the first caller decides and patches
under a lock, the others wait and then get the same state.
"""

from __future__ import annotations

import _thread
import os
import sys

from patchguard import _log, _policy, _state, _where
from patchguard._errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

# Allocated at import, before any patching, so it is a real OS-level lock:
# threads racing to bootstrap must block natively, never on the hub.
_lock = _thread.allocate_lock()


def _thread_name() -> str:
    threading = sys.modules.get("threading")
    if threading is None:
        return "MainThread"
    return str(threading.current_thread().name)


def _again(
    current: _state.PatchState, decision: _policy.Decision
) -> _state.PatchState:
    if decision.mode == current.mode and (
        decision.mode == "native" or decision.options == current.requested
    ):
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


def apply(
    mode: str | None = None,
    patch: str | Iterable[str] | None = None,
    project: str | None = None,
    default: str | None = None,
) -> _state.PatchState:
    """Decide the mode, patch (or guard native mode), and record the state.

    :param mode: ``"eventlet"`` or ``"native"`` forces the mode regardless
        of the environment; ``None``/``"auto"`` leaves it to the
        environment.
    :param patch: eventlet options (``"all,-thread"``, ``"socket,time"``
        or a list of names) used when ``PATCHGUARD_PATCH`` is unset.
    :param project: project name (``"nova"``) used when
        ``PATCHGUARD_PROJECT`` is unset, to honour
        ``OS_<PROJECT>_DISABLE_EVENTLET_PATCHING``.
    :param default: the entry point's fallback mode when nothing in the
        environment decides (replaces eventlet as the last resort).
    :returns: the recorded :class:`~patchguard.PatchState`.
    :raises ConfigError: on an invalid setting (nothing is patched), or
        when the process already runs in a different mode.
    :raises PatchOrderError: in strict mode, when threads or stale
        references would make patching unsafe (nothing is patched).
    """
    current = _state.state()
    if current.mode != "unset":
        return _again(
            current,
            _policy.decide(os.environ, mode, patch, project, default),
        )
    with _lock:
        current = _state.state()
        if current.mode != "unset":
            return _again(
                current,
                _policy.decide(os.environ, mode, patch, project, default),
            )
        decision = _policy.decide(os.environ, mode, patch, project, default)
        new = _state.PatchState(decision, _where.user_site(), _thread_name())
        # Read before patching: still the real OS thread ident.
        new.hub_thread = _state.real_thread_ident()
        if decision.mode == "eventlet":
            from patchguard import _audit

            plan = _audit.before_patch(new)
            from patchguard import _eventlet

            _eventlet.patch(decision.options)
            _audit.after_patch(new, plan)
            from patchguard import _advice

            new.findings.extend(_advice.findings(new))
        elif decision.debugger is not None and (
            decision.decided_by.startswith("debugger:")
        ):
            # One friendly line: under a debugger nobody reads the log.
            sys.stderr.write(
                f"patchguard: {decision.debugger} debugger detected, running "
                f"native (set PATCHGUARD_MODE=eventlet to force eventlet)\n"
            )
        _state.record(new)
    _log.decision(new)
    if new.findings:
        from patchguard import warn

        warn.emit(new.findings, _where.user_frame())
    return new
