"""The import-order audit around patching: before, after, and on reading.

:func:`run` is the one audit every patch goes through, whoever asked for
it: patchguard's bootstrap, or a bare ``eventlet.monkey_patch()`` made
behind patchguard's back (a legacy entry point, a suite's
``tests/__init__.py``).  :func:`before_patch` lists threads already
running, snapshots what patching will replace, and in strict mode refuses
to patch.  :func:`after_patch` turns what it saw into findings on the
state; the advice detectors (partial patch, debugger, drivers, WSGI host)
follow.  :func:`settle` adds what can only be judged when someone reads
the state (multiprocessing locks made after patching, green primitives
used in an unpatched process).  What a fork inherits is
:mod:`patchguard._detectors.fork`'s job, in both modes.
"""

from __future__ import annotations

import os
import sys

from patchguard import _where, warn
from patchguard._detectors import stale as _stale
from patchguard._detectors import threads as _threads_audit
from patchguard._errors import PatchOrderError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    T = TypeVar("T")

    from patchguard._state import PatchState


class Plan:
    """What :func:`before_patch` saw, handed to :func:`after_patch`."""

    def __init__(
        self,
        threads: list[_threads_audit.EarlyThread],
        snapshot: _stale.Snapshot,
        off_main: str | None,
        foreign: _threads_audit.ForeignThreads | None = None,
    ) -> None:
        self.threads = threads
        self.snapshot = snapshot
        self.off_main = off_main
        self.foreign = foreign


def _current_thread() -> tuple[int, str | None]:
    import threading

    from patchguard import _state

    if "thread" in _state.patched_options():
        # Already green (an earlier bare monkey_patch): threading's idea of
        # the current thread is a greenlet's now, so it cannot tell; that
        # earlier call is reported on its own.
        return _state.real_thread_ident(), None
    current = threading.current_thread()
    off_main = None
    if current is not threading.main_thread():
        off_main = f"{current.name!r} (ident={current.ident})"
    return threading.get_ident(), off_main


def _shown(path: str) -> str:
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _parents_first() -> str:
    # Python runs a package's parents before the package: with the
    # bootstrap first in svc/cmd/__init__.py, svc/__init__.py has already
    # run, and a thread it started is "early" though the bootstrap is
    # where the usual fix says.  Name those files (non-empty ones only).
    frame = _where.user_frame()
    if frame is None:
        return ""
    name = frame.f_globals.get("__name__")
    here = frame.f_code.co_filename
    if not isinstance(name, str) or "." not in name:
        return ""
    parts = name.split(".")
    parents = []
    for depth in range(1, len(parts)):
        module = sys.modules.get(".".join(parts[:depth]))
        path = getattr(module, "__file__", None)
        try:
            if isinstance(path, str) and os.path.getsize(path) > 0:
                parents.append(_shown(path))
        except OSError:
            continue
    if not parents:
        return ""
    return (
        f" Python imports parent packages first: {', '.join(parents)} ran "
        f"before {_shown(here)}, which patches; if a thread starts there, "
        f"move `import patchguard.bootstrap` to the top of {parents[0]} "
        f"(or start the thread in main())."
    )


def _thread_message(threads: list[_threads_audit.EarlyThread]) -> str:
    listed = "; ".join(t.describe() for t in threads)
    unknown = any(t.started_at is None for t in threads)
    return (
        f"{len(threads)} thread(s) already running before eventlet patched "
        f"the process: {listed}. Native threads started before patching "
        f"die with KeyError in threading._delete, lose wake-ups or raise "
        f"greenlet.error. {_stale.FIX_ORDER}"
        + (_parents_first() if unknown else "")
    )


def before_patch(new: PatchState) -> Plan:
    """Look at the process just before patching; enforce strict mode.

    :param new: the state being built (for ``strict`` and ``wsgi_host``).
    :returns: the plan for :func:`after_patch`.
    :raises PatchOrderError: in strict mode when threads are running or
        stale references exist (nothing has been patched).
    """
    from patchguard import _state

    already = _state.patched_options()
    ident, off_main = _current_thread()
    # Threads are judged by the first patch of thread only: after it,
    # threads started are green or deliberately native.
    threads = [] if "thread" in already else _threads_audit.find((ident,))
    # Inside an embedding server its own OS threads are expected.
    foreign = _threads_audit.foreign() if new.wsgi_host is None else None
    # Options already in effect were audited when they were applied;
    # snapshotting them again would take green objects for originals.
    snapshot = _stale.Snapshot(new.requested - already)
    if new.strict:
        # eventlet upgrades RLocks reachable from module globals itself,
        # so only what it cannot fix counts here.
        refs = [
            r
            for r in _stale.scan(snapshot)
            if r.original != "instance of _thread.RLock"
        ]
        if threads or refs:
            parts = []
            if threads:
                parts.append(_thread_message(threads))
            if refs:
                parts.append(_stale.message(refs))
            raise PatchOrderError(
                "PATCHGUARD_STRICT: refusing to patch. " + " ".join(parts)
            )
    return Plan(threads, snapshot, off_main, foreign)


def after_patch(new: PatchState, plan: Plan) -> None:
    """Record early threads, stale references and off-main patching.

    :param new: the state being built; findings are appended to it.
    :param plan: what :func:`before_patch` saw.
    """
    new.early_threads = plan.threads
    new.foreign_threads = [plan.foreign] if plan.foreign else []
    if plan.threads:
        new.findings.append(
            warn.Finding(
                warn.EarlyThreadWarning,
                _thread_message(plan.threads),
                new.site,
            )
        )
    new.stale_refs = _stale.scan(plan.snapshot)
    new.findings.extend(_stale.findings(new.stale_refs, new.site))
    if plan.off_main is not None:
        new.findings.append(
            warn.Finding(
                warn.LatePatchWarning,
                f"eventlet patched the process from thread {plan.off_main}, "
                f"not the main thread: on Python 3.11 and 3.12 joins of "
                f"threads then hang, and the main thread's identity is "
                f"lost (mod_wsgi imports scripts this way). Fix: bootstrap "
                f"from the main thread, or run native "
                f"(PATCHGUARD_MODE=native).",
                new.site,
            )
        )


def run(new: PatchState, patch: Callable[[], T]) -> T:
    """Audit one patch: before it, the patch itself, after it, advice.

    :param new: the state being built; findings are appended to it.
    :param patch: applies the patch (eventlet's ``monkey_patch``).
    :returns: what ``patch`` returned.
    :raises PatchOrderError: in strict mode (nothing is patched).
    """
    from patchguard._detectors import advice as _advice

    plan = before_patch(new)
    result = patch()
    after_patch(new, plan)
    new.findings.extend(_advice.findings(new))
    return result


def settle(current: PatchState) -> list[warn.Finding]:
    """Add what can only be judged when the state is read.

    Called by every surface before it shows the state (``check``, the
    pytest plugin's header and strict check): multiprocessing locks and
    queues bound after patching, and green primitives bound in a process
    nothing patched.  Idempotent: a finding already recorded is not added
    again.

    :param current: the recorded state; findings are appended to it.
    :returns: the findings added by this call.
    """
    from patchguard import _state
    from patchguard._detectors import green as _green

    global _settled
    added: list[warn.Finding] = []
    if "eventlet" not in sys.modules:
        return added
    # The plugin reads the state twice at the end of collection: walk the
    # modules again only when some were imported in between.
    key = (id(current), len(sys.modules), len(current.findings))
    if key == _settled:
        return added
    patched = _state.patched_options()
    if patched:
        known = {(r.module, r.attr) for r in current.stale_refs}
        new = [
            r for r in _stale.semlock_scan() if (r.module, r.attr) not in known
        ]
        if new:
            current.stale_refs.extend(new)
            added.append(
                warn.Finding(
                    warn.StaleReferenceWarning,
                    _stale.semlock_message(new),
                    None,
                )
            )
    elif current.mode != "native":
        finding = _green.finding()
        if finding is not None:
            added.append(finding)
    messages = {f.message for f in current.findings}
    added = [f for f in added if f.message not in messages]
    current.findings.extend(added)
    _settled = (id(current), len(sys.modules), len(current.findings))
    return added


#: what :func:`settle` last looked at (private; tests may reset it).
_settled: tuple[int, int, int] | None = None
