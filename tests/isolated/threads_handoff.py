"""Handoff and NativeThread.join between native threads and greenthreads.

The mode comes from ``PATCHGUARD_MODE``.  A green ticker (every 10 ms)
runs throughout: its largest gap shows whether any wait blocked the hub.
Prints one JSON line with one entry per scenario.
"""

import patchguard.bootstrap  # noqa: F401

import faulthandler
import json
import queue
import threading
import time

import patchguard
from patchguard import threads

faulthandler.dump_traceback_later(40, exit=True)

out = {"mode": patchguard.state().mode}
ticks = []
done = []


def ticker():
    while not done:
        ticks.append(time.monotonic())
        time.sleep(0.01)


def max_gap(start, end):
    inside = [t for t in ticks if start <= t <= end]
    gaps = [b - a for a, b in zip(inside, inside[1:], strict=False)]
    return round(max(gaps), 3) if gaps else None


def in_green(fn, *args):
    """Run fn in a threading.Thread: a greenthread in eventlet mode."""
    box = {}

    def run():
        try:
            box["result"] = fn(*args)
        except BaseException as exc:
            box["error"] = repr(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(20)
    return box


tick = threading.Thread(target=ticker, daemon=True)
tick.start()
time.sleep(0.05)

# 1. native producer -> green consumer; the hub keeps ticking meanwhile.
box = threads.Handoff()


def produce(n):
    real_sleep = time.sleep
    for i in range(n):
        real_sleep(0.05)
        box.put(i)


def consume(n):
    return [box.get(timeout=5) for _ in range(n)]


start = time.monotonic()
producer = threads.native_thread(produce, 20, name="producer")
got = in_green(consume, 20)
producer.join(5)
end = time.monotonic()
out["native_to_green"] = {
    "values": got.get("result"),
    "error": got.get("error"),
    "seconds": round(end - start, 3),
    "ticker_max_gap": max_gap(start, end),
}

# 2. green get with a timeout and nobody putting: queue.Empty, hub alive.
start = time.monotonic()
got = in_green(lambda: threads.Handoff().get(timeout=0.5))
end = time.monotonic()
out["green_timeout"] = {
    "error": got.get("error"),
    "seconds": round(end - start, 3),
    "ticker_max_gap": max_gap(start, end),
}

# 3. green producer -> native consumer (the native thread blocks natively).
back = threads.Handoff()
received = threads.Handoff()


def native_consumer():
    received.put([back.get(timeout=5) for _ in range(5)])


consumer = threads.native_thread(native_consumer, name="consumer")


def green_producer():
    for i in range(5):
        time.sleep(0.02)
        back.put(i * 10)


in_green(green_producer)
got = in_green(received.get, True, 5)
consumer.join(5)
out["green_to_native"] = {
    "values": got.get("result"),
    "error": got.get("error"),
}

# 4. get_nowait on an empty handoff raises queue.Empty at once.
try:
    threads.Handoff().get_nowait()
except queue.Empty:
    out["nowait_empty"] = True
else:
    out["nowait_empty"] = False

# 5. join a native thread from a greenthread: parks, the hub keeps going.
start = time.monotonic()
sleeper = threads.native_thread(time.sleep, 0.5, name="sleeper")
got = in_green(sleeper.join)
end = time.monotonic()
out["green_join"] = {
    "alive_after": sleeper.is_alive(),
    "seconds": round(end - start, 3),
    "ticker_max_gap": max_gap(start, end),
}

# 6. join with a timeout returns while the thread still runs.
long = threads.native_thread(time.sleep, 1.0, name="long")
long.join(0.1)
out["join_timeout_alive"] = long.is_alive()
long.join()

done.append(True)
tick.join(2)
print(json.dumps(out))
