"""What a native_thread may do in eventlet mode: log, run commands with
patchguard.subproc, time.sleep, and hand results to a greenthread --
while greenthreads do the same and a green ticker measures the hub.

The mode comes from ``PATCHGUARD_MODE``.  Prints one JSON line.
"""

import logging
import sys

logging.basicConfig(
    level=logging.INFO, stream=sys.stderr, format="%(threadName)s %(message)s"
)
import patchguard.bootstrap  # noqa: F401

import faulthandler
import json
import threading
import time

import patchguard
from patchguard import subproc, threads

faulthandler.dump_traceback_later(40, exit=True)
LOG = logging.getLogger("workload")
results = threads.Handoff()
ticks = []
done = []


def native_work(n):
    out = []
    for i in range(n):
        LOG.info("native %d", i)
        proc = subproc.run(
            ["sh", "-c", f"echo native-{i}"], capture_output=True, text=True
        )
        out.append(proc.stdout.strip())
        time.sleep(0.05)  # 1 s in all: a blocked hub would show it
    results.put((subproc.backend(), out))


def green_work(n):
    out = []
    for i in range(n):
        LOG.info("green %d", i)
        proc = subproc.run(
            ["sh", "-c", f"echo green-{i}"], capture_output=True, text=True
        )
        out.append(proc.stdout.strip())
    results.put((subproc.backend(), out))


def ticker():
    while not done:
        ticks.append(time.monotonic())
        time.sleep(0.01)


tick = threading.Thread(target=ticker, daemon=True)
tick.start()
start = time.monotonic()
natives = [threads.native_thread(native_work, 20) for _ in range(2)]
greens = [threading.Thread(target=green_work, args=(20,)) for _ in range(3)]
for g in greens:
    g.start()
collected = [results.get(timeout=30) for _ in range(5)]
for t in natives + greens:
    t.join(10)
end = time.monotonic()
done.append(True)
tick.join(2)
inside = [t for t in ticks if start <= t <= end]
gaps = [b - a for a, b in zip(inside, inside[1:], strict=False)]
print(
    json.dumps(
        {
            "mode": patchguard.state().mode,
            "backends": sorted(b for b, _ in collected),
            "outputs": sorted(o for _, outs in collected for o in outs),
            "ticker_max_gap": round(max(gaps), 3),
            "seconds": round(end - start, 3),
        }
    )
)
