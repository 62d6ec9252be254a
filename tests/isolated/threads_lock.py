"""SharedRLock semantics across native threads and greenthreads.

The mode comes from ``PATCHGUARD_MODE``.  Prints one JSON line with one
entry per scenario.
"""

import patchguard.bootstrap  # noqa: F401

import faulthandler
import json
import threading
import time

import patchguard
from patchguard import threads

faulthandler.dump_traceback_later(40, exit=True)

out = {"mode": patchguard.state().mode}
lock = threads.SharedRLock()


def green(fn, *args):
    """Start fn in a threading.Thread: a greenthread in eventlet mode."""
    t = threading.Thread(target=fn, args=args, daemon=True)
    t.start()
    return t


# 1. Mutual exclusion: 3 native threads (one has its own hub, because it
#    slept the green way first) and 6 greenthreads, each sleeping inside
#    the critical section.  Peak occupancy must stay 1.
inside = [0]
peak = [0]
total = [0]
errors = []


def critical(n, warm_hub):
    try:
        if warm_hub:
            time.sleep(0.001)
        for _ in range(n):
            with lock:
                with lock:  # recursive
                    inside[0] += 1
                    peak[0] = max(peak[0], inside[0])
                    time.sleep(0.0005)
                    total[0] += 1
                    inside[0] -= 1
    except BaseException as exc:
        errors.append(repr(exc))


workers = [
    threads.native_thread(critical, 100, i == 0, name=f"native-{i}")
    for i in range(3)
]
greens = [green(critical, 100, False) for _ in range(6)]
for t in greens:
    t.join(30)
for t in workers:
    t.join(30)
out["exclusion"] = {
    "peak": peak[0],
    "total": total[0],
    "errors": errors,
    "locked_after": lock.locked(),
}

# 2. A greenthread cannot release a lock a native thread holds.
held = threads.Handoff()
release_now = threads.Handoff()


def hold():
    with lock:
        held.put(True)
        release_now.get(timeout=10)


holder = threads.native_thread(hold, name="holder")
held.get(timeout=10)
result = {}


def foreign_release():
    try:
        lock.release()
    except RuntimeError as exc:
        result["error"] = str(exc)


green(foreign_release).join(5)
# 3. ...and a greenthread's timed acquire gives up while it is held.
ticks = []


def ticker():
    for _ in range(30):
        ticks.append(time.monotonic())
        time.sleep(0.01)


tick = green(ticker)


def timed():
    start = time.monotonic()
    result["acquired"] = lock.acquire(timeout=0.2)
    result["waited"] = round(time.monotonic() - start, 3)
    result["try_once"] = lock.acquire(blocking=False)


green(timed).join(5)
tick.join(5)
release_now.put(True)
holder.join(5)
gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
out["foreign"] = dict(result, ticker_max_gap=round(max(gaps), 3))

# 4. A native thread's timed acquire gives up while a greenthread holds.
green_has = threads.Handoff()
green_go = threads.Handoff()


def green_hold():
    with lock:
        green_has.put(True)
        green_go.get(timeout=10)  # parks: the hub runs on


g = green(green_hold)
green_has.get(timeout=10)
native_result = threads.Handoff()


def native_timed():
    start = time.monotonic()
    ok = lock.acquire(timeout=0.2)
    native_result.put((ok, round(time.monotonic() - start, 3)))


threads.native_thread(native_timed).join(5)
ok, waited = native_result.get(timeout=5)
green_go.put(True)
g.join(5)
out["native_timed"] = {"acquired": ok, "waited": waited}
out["final_unlocked"] = not lock.locked()
print(json.dumps(out))
