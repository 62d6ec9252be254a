"""A bare monkey_patch() runs before the bootstrap (argv[1]: env mode)."""

import warnings

import patchguard  # noqa: F401  (watching)
import eventlet

eventlet.monkey_patch()  # MARK-bare
warnings.simplefilter("always")
error = None
with warnings.catch_warnings(record=True) as caught:
    try:
        import patchguard.bootstrap  # noqa: F401
    except patchguard.PatchOrderError as exc:
        error = str(exc)

from _emit import emit

emit(caught, error=error)
