"""A native_thread ticker and a threading.Thread ticker while the hub's
OS thread is blocked 2 s in a native call (an idle mod_wsgi worker).

The mode comes from ``PATCHGUARD_MODE``.  Prints one JSON line: for each
ticker, the ticks seen during the block and the largest gap between
consecutive ticks across it.
"""

import patchguard.bootstrap  # noqa: F401

import json
import sys
import threading
import time

import patchguard
from patchguard import threads

BLOCK = 2.0
TICK = 0.1
stop = []


def ticker(ticks):
    # time.sleep is whatever the mode made it: green in eventlet mode.
    while not stop:
        ticks.append(time.monotonic())
        time.sleep(TICK)


def real_sleep():
    if "eventlet" in sys.modules:
        from eventlet import patcher

        return patcher.original("time").sleep
    return time.sleep


def summary(ticks, start, end):
    inside = [t for t in ticks if start <= t <= end]
    before = [t for t in ticks if t < start][-1:]
    after = [t for t in ticks if t > end][:1]
    around = before + inside + after
    gaps = [round(b - a, 3) for a, b in zip(around, around[1:], strict=False)]
    return {"ticks": len(inside), "max_gap": max(gaps) if gaps else None}


native_ticks = []
green_ticks = []
native = threads.native_thread(ticker, native_ticks, name="native-ticker")
plain = threading.Thread(target=ticker, args=(green_ticks,), daemon=True)
plain.start()
# Plain threading in native mode; the unpatched module's in eventlet mode.
plain_threading = native.thread in threading.enumerate() and isinstance(
    native.thread, threading.Thread
)
time.sleep(0.5)  # both tickers get going (yields in eventlet mode)
start = time.monotonic()
real_sleep()(BLOCK)  # the hub's thread is stuck in native code
end = time.monotonic()
time.sleep(0.3)
stop.append(True)
native.join(2)
plain.join(2)
print(
    json.dumps(
        {
            "mode": patchguard.state().mode,
            "native": summary(native_ticks, start, end),
            "thread": summary(green_ticks, start, end),
            "native_alive": native.is_alive(),
            "native_name": native.name,
            "native_is_plain_threading": plain_threading,
        }
    )
)
