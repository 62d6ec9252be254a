"""Judge a ``monkey_patch()`` call that came after the bootstrap.

eventlet accepts later calls silently and cannot undo a patch, so a later
``monkey_patch(thread=False)`` looks like it worked and did nothing, and a
later ``monkey_patch(subprocess=True)`` changes the process under code that
already started.  Either way the user should hear about it, with the line.
"""

from __future__ import annotations

from patchguard import warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from patchguard._hooks.eventlet import PatchCall
    from patchguard._state import PatchState


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
