"""A clean program: the bootstrap first, nothing reported."""

import warnings

warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import patchguard.bootstrap  # noqa: F401

import threading  # noqa: E402
import time  # noqa: E402

t = threading.Thread(target=time.sleep, args=(0.01,))
t.start()
t.join()

from _emit import emit  # noqa: E402

emit(caught)
