"""Findings about the decision itself: debugger, partial patch, drivers,
WSGI host.

These depend only on the decision and on what is really patched, so they
are computed after patching (or after choosing native) and handed to
:mod:`patchguard.warn` with the rest.  Database drivers are usually
imported long after the bootstrap, so in eventlet mode a post-import hook
checks each one when it arrives.
"""

from __future__ import annotations

import sys

from patchguard import _where, warn
from patchguard._hooks import importhook as _importhook

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType

    from patchguard._state import PatchState

_BLOCKING = ("time", "socket", "select")


def _debugger(
    current: PatchState, patched: frozenset[str]
) -> list[warn.Finding]:
    name = current.debugger
    if name is None:
        return []
    if "thread" in patched:
        return [
            warn.Finding(
                warn.DebuggerWarning,
                f"eventlet mode was forced ({current.decided_by}) under the "
                f"{name} debugger: the debugger's own threads were started "
                f"before patching and now run on green locks, which gives "
                f"greenlet.error ('Cannot switch to a different thread') "
                f"and hangs. Fix: debug in native mode "
                f"(PATCHGUARD_MODE=native, or unset it: auto picks native "
                f"under a debugger).",
                current.site,
            )
        ]
    green = sorted(m for m in _BLOCKING if m in patched)
    return [
        warn.Finding(
            warn.DebuggerWarning,
            f"thread is left unpatched under the {name} debugger while "
            f"{','.join(green) or 'other modules'} are green: a native "
            f"threading.Lock held across a green sleep or socket call "
            f"deadlocks the process and a native threading.RLock lets two "
            f"greenthreads in at once (the old monkey_patch(thread=False) "
            f"debugger workaround). Fix: run native "
            f"(PATCHGUARD_MODE=native), or patch thread too "
            f"(PATCHGUARD_PATCH=all).",
            current.site,
        )
    ]


def _partial(
    current: PatchState, patched: frozenset[str]
) -> list[warn.Finding]:
    green = sorted(m for m in _BLOCKING if m in patched)
    if "thread" in patched or not green or current.debugger is not None:
        return []
    return [
        warn.Finding(
            warn.PartialPatchWarning,
            f"partial patching: threading locks are native but "
            f"{','.join(green)} {'is' if len(green) == 1 else 'are'} green. "
            f"A threading.Lock held across a green sleep or I/O call "
            f"deadlocks the process (the next greenthread to acquire it "
            f"blocks the only OS thread); a threading.RLock loses mutual "
            f"exclusion instead (every greenthread runs on the one OS "
            f"thread, so it counts as the owner and enters while another "
            f"greenthread holds it). Fix: patch thread too "
            f"(PATCHGUARD_PATCH=all) or run native (PATCHGUARD_MODE=native).",
            current.site,
        )
    ]


def _wsgi(current: PatchState) -> list[warn.Finding]:
    if current.wsgi_host is None:
        return []
    return [
        warn.Finding(
            warn.WSGIHostWarning,
            f"eventlet mode was forced ({current.decided_by}) inside "
            f"{current.wsgi_host}: green background work (AMQP heartbeats, "
            f"periodic tasks) only runs while a request yields, and starves "
            f"when the server is idle, so brokers drop the connection. "
            f"Fix: unset PATCHGUARD_MODE (auto runs native under a WSGI "
            f"server), or move background work to "
            f"patchguard.threads.native_thread.",
            current.site,
        )
    ]


def driver_finding(name: str, current: PatchState) -> warn.Finding | None:
    """Return a finding when database driver ``name`` blocks the hub.

    :param name: ``"MySQLdb"`` or ``"psycopg2"``.
    :param current: the recorded state.
    :returns: the finding, or ``None`` when the driver is green.
    """
    patched = current.patched
    if name == "MySQLdb" and "MySQLdb" not in patched:
        return warn.Finding(
            warn.UnpatchedDriverWarning,
            "MySQLdb is imported but not patched: every query blocks the "
            "hub (MySQLdb is a C driver eventlet leaves alone by default). "
            "Fix: use PyMySQL (pure Python, made green by the socket "
            "patch), or add eventlet's opt-in MySQLdb patch to the "
            "defaults with PATCHGUARD_PATCH=all,MySQLdb.",
            None,
        )
    if name == "psycopg2" and "psycopg" not in patched:
        return warn.Finding(
            warn.UnpatchedDriverWarning,
            "psycopg2 is imported but not made green (no eventlet wait "
            "callback): every query blocks the hub. Fix: keep 'psycopg' in "
            "PATCHGUARD_PATCH (it is in 'all'), or use a pure-Python "
            "driver.",
            None,
        )
    return None


def _on_driver(name: str, current: PatchState) -> None:
    def hook(module: ModuleType) -> None:
        from patchguard import _state

        # The state in effect when the driver arrives: a bare
        # monkey_patch()'s audit arms this hook before anything records.
        recorded = _state.state()
        if recorded.mode not in ("unset", current.mode):
            return
        current_state = recorded
        finding = driver_finding(name, current_state)
        if finding is None or any(
            f.message == finding.message for f in current_state.findings
        ):
            # A bare monkey_patch() and a later bootstrap both armed it.
            return
        frame = _where.user_frame()
        if frame is not None:
            finding.location = f"{frame.f_code.co_filename}:{frame.f_lineno}"
        current_state.findings.append(finding)
        warn.emit([finding], frame)

    _importhook.when_imported(name, hook)


def findings(current: PatchState) -> list[warn.Finding]:
    """Return the findings about ``current``'s decision.

    In eventlet mode this also arms the driver hooks, so a driver imported
    later is reported at its import line.

    :param current: the state being recorded.
    :returns: findings to emit after the bootstrap.
    """
    if current.mode != "eventlet":
        return []
    patched = current.patched
    result = _debugger(current, patched)
    result += _partial(current, patched)
    result += _wsgi(current)
    for name in ("MySQLdb", "psycopg2"):
        if name in sys.modules:
            finding = driver_finding(name, current)
            if finding is not None:
                finding.location = current.site
                result.append(finding)
        else:
            _on_driver(name, current)
    return result
