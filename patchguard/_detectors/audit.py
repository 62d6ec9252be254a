"""The import-order audit around patching: before, after, and at fork.

:func:`before_patch` runs under the bootstrap's lock just before eventlet
patches: it lists threads already running, snapshots what patching will
replace, and in strict mode refuses to patch.  :func:`after_patch` turns
what it saw into findings on the state.  (What a fork inherits is
:mod:`patchguard._detectors.fork`'s job, in both modes.)
"""

from __future__ import annotations

from patchguard import warn
from patchguard._detectors import stale as _stale
from patchguard._detectors import threads as _threads_audit
from patchguard._errors import PatchOrderError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from patchguard._state import PatchState

_FIX_ORDER = (
    "Fix: make `import patchguard.bootstrap` the first import of the entry "
    "point (cmd/__init__.py, tests/__init__.py), before anything that "
    "starts threads or binds these names."
)


class Plan:
    """What :func:`before_patch` saw, handed to :func:`after_patch`."""

    def __init__(
        self,
        threads: list[_threads_audit.EarlyThread],
        snapshot: _stale.Snapshot,
        off_main: str | None,
    ) -> None:
        self.threads = threads
        self.snapshot = snapshot
        self.off_main = off_main


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


def _thread_message(threads: list[_threads_audit.EarlyThread]) -> str:
    listed = "; ".join(t.describe() for t in threads)
    return (
        f"{len(threads)} thread(s) already running before eventlet patched "
        f"the process: {listed}. Native threads started before patching "
        f"die with KeyError in threading._delete, lose wake-ups or raise "
        f"greenlet.error. {_FIX_ORDER}"
    )


def _stale_message(refs: list[_stale.StaleRef]) -> str:
    listed = "; ".join(r.describe() for r in refs)
    return (
        f"{len(refs)} module global(s) still hold native objects that "
        f"patching replaced: {listed}. They block the hub or lose mutual "
        f"exclusion. {_FIX_ORDER} Or refer to them through their module "
        f"(time.sleep, not sleep)."
    )


def before_patch(new: PatchState) -> Plan:
    """Look at the process just before patching; enforce strict mode.

    :param new: the state being built (for ``strict`` and ``wsgi_host``).
    :returns: the plan for :func:`after_patch`.
    :raises PatchOrderError: in strict mode when threads are running or
        stale references exist (nothing has been patched).
    """
    ident, off_main = _current_thread()
    threads = _threads_audit.find(
        (ident,), count_os_threads=new.wsgi_host is None
    )
    snapshot = _stale.Snapshot(new.requested)
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
                parts.append(_stale_message(refs))
            raise PatchOrderError(
                "PATCHGUARD_STRICT: refusing to patch. " + " ".join(parts)
            )
    return Plan(threads, snapshot, off_main)


def after_patch(new: PatchState, plan: Plan) -> None:
    """Record early threads, stale references and off-main patching.

    :param new: the state being built; findings are appended to it.
    :param plan: what :func:`before_patch` saw.
    """
    new.early_threads = plan.threads
    if plan.threads:
        new.findings.append(
            warn.Finding(
                warn.EarlyThreadWarning,
                _thread_message(plan.threads),
                new.site,
            )
        )
    new.stale_refs = _stale.scan(plan.snapshot)
    if new.stale_refs:
        new.findings.append(
            warn.Finding(
                warn.StaleReferenceWarning,
                _stale_message(new.stale_refs),
                new.site,
            )
        )
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
