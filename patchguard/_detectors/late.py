"""Judge a ``monkey_patch()`` call that came after the bootstrap.

The call itself is recorded as a :class:`PatchCall` by the eventlet hook
(:mod:`patchguard._hooks.eventlet`), which imports this module; this
module never imports the hook, so data flows one way: hook -> detector.

eventlet accepts later calls silently and cannot undo a patch, so a later
``monkey_patch(thread=False)`` looks like it worked and did nothing, and a
later ``monkey_patch(subprocess=True)`` changes the process under code that
already started.  Either way the user should hear about it, with the line.
"""

from __future__ import annotations

from patchguard import warn
from patchguard._record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from patchguard._state import PatchState


class PatchCall(Record):
    """A call to ``eventlet.monkey_patch()`` made outside patchguard.

    :ivar site: the caller's ``file:line``.
    :ivar thread: the calling thread's name.
    :ivar kwargs: the keyword arguments it was called with.
    :ivar before: option names in effect before the call.
    :ivar after: option names in effect after it (``None`` if refused).
    :ivar mode: patchguard's mode at the time of the call.
    """

    __slots__ = (
        "site",
        "thread",
        "kwargs",
        "before",
        "after",
        "mode",
        "findings",
    )

    def __init__(
        self,
        site: str,
        thread: str,
        kwargs: dict[str, Any],
        before: frozenset[str],
        mode: str,
    ) -> None:
        self.site = site
        self.thread = thread
        self.kwargs = kwargs
        self.before = before
        self.after: frozenset[str] | None = None
        self.mode = mode
        #: what the audit found around a bare call (before any bootstrap).
        self.findings: list[Any] = []

    def describe(self) -> str:
        """Return ``eventlet.monkey_patch(k=v) at file:line``."""
        args = ", ".join(f"{k}={v!r}" for k, v in sorted(self.kwargs.items()))
        return f"eventlet.monkey_patch({args}) at {self.site}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict of the call."""
        return {
            "site": self.site,
            "thread": self.thread,
            "kwargs": {k: repr(v) for k, v in self.kwargs.items()},
            "before": sorted(self.before),
            "after": None if self.after is None else sorted(self.after),
            "mode": self.mode,
            "findings": [f.to_dict() for f in self.findings],
        }


def report(call: PatchCall, current: PatchState) -> None:
    """Warn when a late call changed what is patched, or asked to leave
    unpatched something that already is (eventlet cannot undo a patch, so
    such a call silently does nothing).

    :param call: the recorded call (with ``before``/``after``).
    :param current: the state the bootstrap recorded.
    """
    added = sorted((call.after or frozenset()) - call.before)
    refused = sorted(
        name
        for name, value in call.kwargs.items()
        if value is False and name in call.before
    )
    if not added and not refused:
        return
    bootstrap = (
        f"patchguard's bootstrap at {current.site} (in effect: "
        f"{','.join(sorted(call.before)) or 'nothing'})"
    )
    parts = []
    if added:
        parts.append(
            f"{call.describe()} patched {','.join(added)} after {bootstrap}; "
            f"code that ran in between still holds the native objects."
        )
    if refused:
        parts.append(
            f"{call.describe()} asked to leave {','.join(refused)} "
            f"unpatched, but {','.join(refused)} "
            f"{'is' if len(refused) == 1 else 'are'} already patched and "
            f"eventlet cannot undo a patch: that part of the call did "
            f"nothing."
        )
    text = " ".join(parts)
    finding = warn.Finding(
        warn.LatePatchWarning,
        text + " Fix: remove the call and choose the patches with "
        "PATCHGUARD_PATCH (or PATCHGUARD_MODE=native) before the bootstrap.",
        call.site,
    )
    current.findings.append(finding)
    from patchguard import _where

    warn.emit([finding], _where.user_frame(skip_also=("eventlet",)))
