"""Threads and forks made by a library name the user's line too."""

import _libpath  # noqa: F401
import patchguard  # noqa: F401  (watching starts here)
import fakepool

fakepool.start_monitor()  # MARK-user-start

import warnings  # noqa: E402

warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import patchguard.bootstrap  # noqa: F401

    import eventlet

    eventlet.spawn(eventlet.sleep, 5)
    eventlet.sleep(0)
    fakepool.fork_worker()  # MARK-user-fork

from _emit import emit  # noqa: E402

emit(caught)
