"""Green primitives bound in a process that nothing patched.

``from eventlet.green import socket`` (or ``eventlet.green.time.sleep``,
``eventlet.green.threading.Lock``) makes the binding module's own calls
cooperative, and nothing else: without ``monkey_patch()`` every other
module and every client library keeps the stdlib's socket, select and
time, which block the only OS thread and so every greenthread.  This
detector names the green names each module bound and what stays blocking.
It runs when a surface reads the state (:func:`patchguard._detectors.
audit.settle`), because only then is "nothing patched" final enough.
"""

from __future__ import annotations

import sys

from patchguard import warn
from patchguard._detectors import stale as _stale
from patchguard._detectors import walk as _walk


def _green_objects() -> dict[int, tuple[object, str]]:
    objects: dict[int, tuple[object, str]] = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("eventlet.green.") or module is None:
            continue
        objects[id(module)] = (module, name)
        std = sys.modules.get(name.rsplit(".", 1)[1])
        for attr, value in list(vars(module).items()):
            if attr.startswith("_") or callable(value) is False:
                continue
            # Re-exported stdlib names are not green.
            if std is not None and getattr(std, attr, None) is value:
                continue
            objects.setdefault(id(value), (value, f"{name}.{attr}"))
    return objects


def finding() -> warn.Finding | None:
    """Return the finding, or ``None`` when no module binds green names.

    :returns: a :class:`~patchguard.PartialPatchWarning` finding naming
        each binding (``app.socket -> eventlet.green.socket``).
    """
    objects = _green_objects()
    if not objects:
        return None

    found = _walk.walk(_stale.user_modules(), _walk.Matcher(objects, {}))
    if not found:
        return None
    listed = "; ".join(f"{m}.{w} -> {label}" for m, w, label in found)
    return warn.Finding(
        warn.PartialPatchWarning,
        f"eventlet green primitives are bound but nothing is patched: "
        f"{listed}. Only those calls cooperate; the stdlib socket, select, "
        f"time and threading used everywhere else, in every client library "
        f"(requests, PyMySQL, kombu, ...), stay blocking and stall every "
        f"greenthread while they wait. Fix: patch the whole process "
        f"(`import patchguard.bootstrap` first, PATCHGUARD_MODE=eventlet), "
        f"or drop eventlet and run native with plain threading "
        f"(PATCHGUARD_MODE=native).",
        None,
    )
