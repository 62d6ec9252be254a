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
    from patchguard._eventlet import PatchCall
    from patchguard._state import PatchState


def report(call: PatchCall, current: PatchState) -> None:
    """Warn when a late call changed what is patched.

    :param call: the recorded call (with ``before``/``after``).
    :param current: the state the bootstrap recorded.
    """
    added = sorted((call.after or frozenset()) - call.before)
    if not added:
        return
    finding = warn.Finding(
        warn.LatePatchWarning,
        f"{call.describe()} patched {','.join(added)} after patchguard's "
        f"bootstrap at {current.site} had patched "
        f"{','.join(sorted(call.before)) or 'nothing'}; code that ran in "
        f"between still holds the native objects. Fix: remove the call and "
        f"choose the patches with PATCHGUARD_PATCH before the bootstrap.",
        call.site,
    )
    current.findings.append(finding)
    from patchguard import _where

    warn.emit([finding], _where.user_frame(skip_also=("eventlet",)))
