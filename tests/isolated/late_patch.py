"""monkey_patch() after the bootstrap: recorded; warned when it changes."""

import warnings

warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import patchguard.bootstrap  # noqa: F401
    import eventlet

    eventlet.monkey_patch(socket=True)  # MARK-same: changes nothing
    eventlet.monkey_patch(thread=True)  # MARK-late: patches thread late
    eventlet.monkey_patch(thread=False)  # MARK-undo: cannot unpatch

from _emit import emit  # noqa: E402

emit(caught)
