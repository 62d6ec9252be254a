"""patchguard.subproc against the ways services run commands today.

Run: ``python benchmarks/bench_subproc.py [rounds]`` (default 7 rounds;
the slow variants run in 2 of them, the concurrent table in 3).

Two tables, every variant in its own fresh interpreter (patching cannot
be undone), variants interleaved round by round so a noisy neighbour
hurts them all alike:

* 500 sequential ``true``: throughput (median over rounds) and the ratio
  to the stdlib's ``subprocess.run`` in a native process (the anchor)
  measured in the same round (median over rounds).
  Goal: patchguard.subproc in eventlet mode >= 0.8x the anchor.
* 50 concurrent ``sleep 0.2`` (greenthreads; OS threads for the native
  anchor): wall time and the longest stall of a 10 ms ticker greenthread.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib.metadata import version

from _timing import PY, env

N_SEQUENTIAL = 500
N_CONCURRENT = 50

#: name -> (environment, setup code, expression running one command
#: whose argv is the name ``argv``).  "native" variants never import
#: eventlet.
VARIANTS = {
    "stdlib subprocess.run, native (anchor)": (
        {},
        "import subprocess",
        "subprocess.run(argv)",
    ),
    "patchguard.subproc.run, eventlet mode": (
        {"PATCHGUARD_MODE": "eventlet"},
        "import patchguard.bootstrap\nfrom patchguard import subproc",
        "subproc.run(argv)",
    ),
    "patchguard.subproc.run, native mode": (
        {"PATCHGUARD_MODE": "native"},
        "import patchguard.bootstrap\nfrom patchguard import subproc",
        "subproc.run(argv)",
    ),
    "subprocess.run, eventlet.monkey_patch()": (
        {},
        "import eventlet\neventlet.monkey_patch()\nimport subprocess",
        "subprocess.run(argv)",
    ),
    "eventlet.green.subprocess.call": (
        {},
        "import eventlet\nfrom eventlet.green import subprocess",
        "subprocess.call(argv)",
    ),
    "processutils.execute, eventlet.monkey_patch()": (
        {},
        "import eventlet\neventlet.monkey_patch()\n"
        "from oslo_concurrency import processutils",
        "processutils.execute(*argv)",
    ),
    "patchguard.subproc.execute, eventlet mode": (
        {"PATCHGUARD_MODE": "eventlet"},
        "import patchguard.bootstrap\nfrom patchguard import subproc",
        "subproc.execute(*argv)",
    ),
}

#: The quick variants, measured every round.
FAST = [
    "stdlib subprocess.run, native (anchor)",
    "patchguard.subproc.run, eventlet mode",
    "patchguard.subproc.run, native mode",
    "patchguard.subproc.execute, eventlet mode",
]
#: The variants also timed running commands concurrently.
CONCURRENT = [
    "stdlib subprocess.run, native (anchor)",
    "patchguard.subproc.run, eventlet mode",
    "subprocess.run, eventlet.monkey_patch()",
    "eventlet.green.subprocess.call",
    "processutils.execute, eventlet.monkey_patch()",
]

# The child: run ``count`` commands sequentially, or concurrently (with a
# ticker greenthread measuring the hub's longest stall), print JSON.
CHILD = """
import json, sys, time
{setup}
kind, count = sys.argv[1], int(sys.argv[2])
def one(argv):
    {run}
for _ in range(5):
    one(["true"])
green = "eventlet" in sys.modules
if kind == "sequential":
    start = time.perf_counter()
    for _ in range(count):
        one(["true"])
    print(json.dumps({{"elapsed": time.perf_counter() - start}}))
    sys.exit(0)
gap = [0.0]
stop = [False]
if green:
    import eventlet
    def ticker():
        last = time.monotonic()
        while not stop[0]:
            eventlet.sleep(0.01)
            now = time.monotonic()
            gap[0] = max(gap[0], now - last)
            last = now
    tick = eventlet.spawn(ticker)
    eventlet.sleep(0.05)
    start = time.perf_counter()
    pool = [eventlet.spawn(one, ["sleep", "0.2"]) for _ in range(count)]
    for g in pool:
        g.wait()
    elapsed = time.perf_counter() - start
    stop[0] = True
    tick.wait()
else:
    import threading
    start = time.perf_counter()
    threads = [threading.Thread(target=one, args=(["sleep", "0.2"],))
               for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
print(json.dumps({{"elapsed": elapsed, "gap": gap[0] if green else None}}))
"""


def measure(name: str, kind: str, count: int) -> dict[str, float]:
    """Run one variant once in a fresh interpreter; return its JSON."""
    extra, setup, run = VARIANTS[name]
    code = CHILD.format(setup=setup, run=run)
    result = subprocess.run(
        [PY, "-c", code, kind, str(count)],
        env=env(**extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{name} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    """Print both tables."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    names = list(VARIANTS)
    anchor = names[0]
    # The slow variants (~10x slower) get fewer rounds: their ratio needs
    # no second digit, and they would blow the time budget.
    slow_rounds = min(rounds, 2)
    rates: dict[str, list[float]] = {n: [] for n in names}
    ratios: dict[str, list[float]] = {n: [] for n in names}
    walls: dict[str, list[float]] = {n: [] for n in CONCURRENT}
    gaps: dict[str, list[float]] = {n: [] for n in CONCURRENT}
    started = time.monotonic()
    for i in range(rounds):
        todo = [n for n in names if n in FAST or i < slow_rounds]
        shift = i % len(todo)
        here = {}
        for name in todo[shift:] + todo[:shift]:
            out = measure(name, "sequential", N_SEQUENTIAL)
            here[name] = N_SEQUENTIAL / out["elapsed"]
            rates[name].append(here[name])
        # Each ratio against the anchor of the same round: a neighbour's
        # burst of load then moves both sides of the ratio.
        for name, rate in here.items():
            ratios[name].append(rate / here[anchor])
        if i < 3:
            for name in CONCURRENT:
                out = measure(name, "concurrent", N_CONCURRENT)
                walls[name].append(out["elapsed"])
                if out["gap"] is not None:
                    gaps[name].append(out["gap"])

    print(
        f"Python {platform.python_version()}, eventlet {version('eventlet')}"
        f", {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}, {rounds} rounds, "
        f"{time.monotonic() - started:.0f} s\n"
    )
    print(f"### {N_SEQUENTIAL} sequential `true`\n")
    print("| variant | median cmd/s | median ratio vs anchor | ratio range |")
    print("|---|---:|---:|---:|")
    for name in names:
        print(
            f"| {name} | {statistics.median(rates[name]):.0f} "
            f"| {statistics.median(ratios[name]):.2f}x "
            f"| {min(ratios[name]):.2f}-{max(ratios[name]):.2f}x |"
        )
    green = statistics.median(ratios[names[1]])
    print(
        f"\ngoal: patchguard.subproc.run in eventlet mode >= 0.8x the "
        f"anchor: {green:.2f}x -> {'met' if green >= 0.8 else 'NOT met'}\n"
    )
    print(f"### {N_CONCURRENT} concurrent `sleep 0.2`\n")
    print("| variant | median wall (s) | max 10 ms ticker stall (ms) |")
    print("|---|---:|---:|")
    for name in walls:
        stall = (
            f"{max(gaps[name]) * 1000:.0f}" if gaps[name] else "n/a (threads)"
        )
        print(f"| {name} | {statistics.median(walls[name]):.2f} | {stall} |")


if __name__ == "__main__":
    main()
