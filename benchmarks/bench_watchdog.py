"""What the watchdog costs, and how fast it sees a stall.

Run: ``python benchmarks/bench_watchdog.py [rounds]`` (default 9).

Each workload runs in its own fresh interpreter.  Inside it, the sides
(watchdog off, watchdog on via ``watchdog.start(threshold=0.1)`` /
``stop()``, and for the green workload gevent's mechanism as the anchor)
take turns round by round in rotating order, so a noisy neighbour on a
shared machine hits them alike; a ratio is taken per round (side / off,
same round) and the table shows the median ratio with its spread
(min-max), for wall time and for the process's CPU time (all threads,
the watchdog's included).  Goal: <= 1.02x.

* green request serving: an ``eventlet.wsgi`` server and 10 keep-alive
  client greenthreads in one eventlet-mode process, 1,000 HTTP requests
  per run; the watchdog stamps the hub every 12.5 ms.  Anchor: a
  ``greenlet.settrace`` switch counter (what gevent's monitor installs).
* native thread pool: 3,000 tasks per run through a
  ``concurrent.futures.ThreadPoolExecutor(8)`` in native mode,
  request-like (a JSON round trip of a 20-key document) and no-op (the
  per-task cost alone).
* detection latency: the main greenlet blocks the hub for 0.6 s, 8 times
  (two blocking lines in turn, so no two stalls merge); the time from the
  block's start to the ``on_stall`` callback, against the threshold
  (0.1 s).  Goal: <= 2x the threshold.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from typing import Any

from _timing import PY, env

#: the measuring loop shared by the workloads: ``PAIRS`` rounds, each
#: running every side once in rotating order; a side is switched on right
#: before its run and off right after, in the same process.
HARNESS = r"""
import json, sys, time
from patchguard import watchdog

def measure(workload, sides, pairs):
    names = list(sides)
    out = {name: [] for name in names}
    workload()  # warm up
    for i in range(pairs):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            on, off = sides[name]
            on()
            start, cpu = time.perf_counter(), time.process_time()
            workload()
            out[name].append(
                (time.perf_counter() - start, time.process_time() - cpu)
            )
            off()
    print(json.dumps(out))

def nothing():
    pass

WATCHDOG = (lambda: watchdog.start(threshold=0.1), watchdog.stop)
"""

GREEN = r"""
import patchguard.bootstrap
import eventlet
import greenlet
from eventlet import wsgi

def app(environ, start_response):
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]

REQ = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"

def client(port, n):
    sock = eventlet.connect(("127.0.0.1", port))
    buf = b""
    for _ in range(n):
        sock.sendall(REQ)
        while b"\r\n\r\nok" not in buf:
            buf += sock.recv(65536)
        buf = buf.split(b"\r\n\r\nok", 1)[1]
    sock.close()

class Quiet:
    def write(self, *a):
        pass

listener = eventlet.listen(("127.0.0.1", 0))
port = listener.getsockname()[1]
eventlet.spawn(wsgi.server, listener, app, log=Quiet())
eventlet.sleep(0.05)

def workload():
    clients = [eventlet.spawn(client, port, 100) for _ in range(10)]
    for c in clients:
        c.wait()

SWITCHES = [0]

def trace(event, args):
    SWITCHES[0] += 1

measure(
    workload,
    {
        "watchdog off": (nothing, nothing),
        "watchdog on (0.1 s)": WATCHDOG,
        "anchor: greenlet.settrace switch counter": (
            lambda: greenlet.settrace(trace),
            lambda: greenlet.settrace(None),
        ),
    },
    int(sys.argv[1]),
)
"""

POOL = r"""
import patchguard.bootstrap
import json
from concurrent.futures import ThreadPoolExecutor

DOC = {f"key{i}": [i, str(i), {"n": i}] for i in range(20)}

def tiny(n):
    return n + 1

def request(n):
    return len(json.loads(json.dumps(DOC))) + n

task = {"tiny": tiny, "request": request}[sys.argv[2]]
pool = ThreadPoolExecutor(8)

def workload():
    list(pool.map(task, range(3000)))

measure(
    workload,
    {"watchdog off": (nothing, nothing), "watchdog on (0.1 s)": WATCHDOG},
    int(sys.argv[1]),
)
pool.shutdown()
"""

LATENCY = r"""
import json, time
import patchguard.bootstrap
import eventlet
from patchguard import watchdog

seen = []
watchdog.on_stall(lambda report: seen.append(time.monotonic()))
watchdog.start(threshold=0.1)
eventlet.sleep(0.2)
# Two different blocking lines, alternated: identical consecutive stalls
# would be merged into one report (and one callback).
def block_a(start):
    while time.monotonic() - start < 0.6:
        pass

def block_b(start):
    while time.monotonic() - start < 0.6:
        pass

latencies = []
for i in range(8):
    before = len(seen)
    start = time.monotonic()
    (block_a if i % 2 else block_b)(start)
    eventlet.sleep(0.2)
    if len(seen) > before:
        latencies.append(seen[before] - start)
print(json.dumps(latencies))
"""

WORKLOADS = {
    "green request serving (eventlet.wsgi, 1,000 requests per run)": (
        GREEN,
        "eventlet",
        "",
    ),
    "native thread pool, 3,000 request-like tasks per run (JSON round trip)": (
        POOL,
        "native",
        "request",
    ),
    "native thread pool, 3,000 no-op tasks per run (the per-task cost "
    "alone)": (POOL, "native", "tiny"),
}


def _child(code: str, mode: str, *args: str) -> Any:
    """Run ``code`` in a fresh interpreter; parse its last JSON line."""
    out = subprocess.run(
        [PY, "-c", code, *args],
        env=env(PATCHGUARD_MODE=mode),
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    return json.loads(out.splitlines()[-1])


def overhead(pairs: int) -> None:
    """Print the on/off table for each workload."""
    for title, (code, mode, arg) in WORKLOADS.items():
        args = [str(pairs), *([arg] if arg else [])]
        samples = _child(HARNESS + code, mode, *args)
        names = list(samples)
        print(f"### {title}\n")
        print(
            "| variant | measure | median (ms) | ratio vs off "
            "(median of pairs) | spread |"
        )
        print("|---|---|---:|---:|---:|")
        off = samples[names[0]]
        for name in names:
            for index, measure in enumerate(("wall", "CPU, all threads")):
                a = [v[index] for v in off]
                b = [v[index] for v in samples[name]]
                ratios = [y / x for x, y in zip(a, b, strict=True)]
                print(
                    f"| {name} | {measure} "
                    f"| {statistics.median(b) * 1000:.1f} "
                    f"| {statistics.median(ratios):.3f}x "
                    f"| {min(ratios):.3f}-{max(ratios):.3f} |"
                )
        print(f"\n{pairs} rounds in one process; goal <= 1.02x\n")


COSTS = r"""
import json, time, timeit
import patchguard.bootstrap
import eventlet
from patchguard import watchdog
from patchguard._watchdog import hub, tasks

# A large threshold: the timing loops below must not be reported as
# stalls; the costs do not depend on it.
watchdog.start(threshold=10)
watch = list(hub._watched.values())[0]

def stamp_cycle():
    timer = watch.hub.schedule_call_global(1.0, watch.hub.clock)
    watch.stamp = time.monotonic()
    timer.cancel()

def look():
    now = time.monotonic()
    hub.check(10, now)
    tasks.check(60, now)
    hub.next_due(10, now)

def best(fn, n):
    best = float("inf")
    for _ in range(5):
        best = min(best, timeit.timeit(fn, number=n) / n)
        eventlet.sleep(0)
    return best

print(json.dumps({"stamp": best(stamp_cycle, 20000),
                  "look": best(look, 5000)}))
"""


def costs() -> None:
    """Print the watchdog's own cost per event, measured in isolation."""
    data = _child(COSTS, "eventlet")
    # At threshold 0.1 s: a stamp every 12.5 ms (80/s); the thread looks
    # when a stamp would turn late and at least every 50 ms (<= 20/s).
    stamp = data["stamp"] * 80 * 100
    look = data["look"] * 20 * 100
    print("### the watchdog's own cost at threshold 0.1 s (best of 5)\n")
    print(
        f"- hub stamp (timer scheduled + stamp): {data['stamp'] * 1e6:.1f} "
        f"us x 80/s = {stamp:.3f}% of the hub's thread\n"
        f"- one look by the watchdog thread (hub + pools): "
        f"{data['look'] * 1e6:.1f} us x <= 20/s = {look:.3f}% of a core\n"
    )


def latency() -> None:
    """Print how long after a hub block starts the report arrives."""
    values = _child(LATENCY, "eventlet")
    print("### detection latency (threshold 0.1 s, 8 blocks of 0.6 s)\n")
    if not values:
        print("no stall detected: FAILED\n")
        return
    print(
        f"detected {len(values)}/8; from block start to report: median "
        f"{statistics.median(values):.3f} s, max {max(values):.3f} s "
        f"({max(values) / 0.1:.2f}x threshold); goal <= 2x\n"
    )


def main() -> None:
    """Run the tables."""
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    overhead(pairs)
    costs()
    latency()


if __name__ == "__main__":
    main()
