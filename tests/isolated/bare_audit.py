"""A bare eventlet.monkey_patch() (not patchguard's) is audited like the
bootstrap: warnings at run time, and the same findings in state()."""

import threading
import time
from time import sleep

import patchguard  # noqa: F401  (what the pytest plugin does: watch)

stop = []
threading.Thread(
    target=lambda: stop or time.sleep(30), name="early", daemon=True
).start()  # MARK-start

import warnings  # noqa: E402

warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import eventlet

    eventlet.monkey_patch(thread=False)  # MARK-bare

from _emit import emit  # noqa: E402

emit(caught, names=[sleep.__name__])
