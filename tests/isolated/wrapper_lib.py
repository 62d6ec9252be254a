"""Like os_brick.utils: a library wraps a patched function in place."""

import time

_orig_sleep = time.sleep


def _make(inner):
    def sleep(seconds):
        # A timing/retry wrapper without functools.wraps: its __module__
        # is this library's, yet it still calls eventlet's sleep.
        return inner(seconds)

    return sleep


time.sleep = _make(_orig_sleep)
