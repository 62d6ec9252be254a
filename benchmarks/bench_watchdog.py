"""What the watchdog costs, and how fast it sees a stall.

Run: ``python benchmarks/bench_watchdog.py [rounds]`` (default 5).

Every variant runs in its own fresh interpreter, watchdog off and on
interleaved round by round (A, B, B, A, ...); a ratio is taken per round
(on / off, same round) and the table shows the median ratio with its
spread (min-max over rounds), for wall time and for the process's CPU
time (all threads, the watchdog's included), which a shared machine's
noise disturbs far less.  Goal: <= 1.02x on both workloads.

* green request serving: an ``eventlet.wsgi`` server and 10 keep-alive
  client greenthreads in one eventlet-mode process, 3,000 HTTP requests;
  watchdog ``PATCHGUARD_WATCHDOG=0.1`` (stamps every 12.5 ms).
* native thread pool: 10,000 tasks through a
  ``concurrent.futures.ThreadPoolExecutor(8)`` in native mode, request-like
  (a JSON round trip of a 20-key document) and no-op (which shows the
  per-task cost of the hook alone); watchdog on means every task's ``run``
  is wrapped.
* detection latency: the main greenlet blocks the hub for 0.6 s, 8 times
  (two blocking lines in turn, so no two stalls merge);
  the time from the block's start to the ``on_stall`` callback, against
  the threshold (0.1 s).  Goal: <= 2x the threshold.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

from _timing import PY, env

GREEN = r"""
import patchguard.bootstrap
import time
import eventlet
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
start, cpu = time.perf_counter(), time.process_time()
clients = [eventlet.spawn(client, port, 300) for _ in range(10)]
for c in clients:
    c.wait()
print(time.perf_counter() - start, time.process_time() - cpu)
"""

POOL = r"""
import patchguard.bootstrap
import json, sys, time
from concurrent.futures import ThreadPoolExecutor

DOC = {f"key{i}": [i, str(i), {"n": i}] for i in range(20)}

def tiny(n):
    return n + 1

def request(n):
    return len(json.loads(json.dumps(DOC))) + n

task = {"tiny": tiny, "request": request}[sys.argv[1]]
with ThreadPoolExecutor(8) as pool:
    list(pool.map(task, range(500)))
    start, cpu = time.perf_counter(), time.process_time()
    list(pool.map(task, range(10000)))
    print(time.perf_counter() - start, time.process_time() - cpu)
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

#: gevent's mechanism (a ``greenlet.settrace`` switch counter), as the
#: anchor for the green workload: what the stamp timer replaces.
SETTRACE = GREEN.replace(
    "import eventlet\n",
    "import eventlet\nimport greenlet\nSWITCHES = [0]\n"
    "def _trace(event, args):\n    SWITCHES[0] += 1\n"
    "greenlet.settrace(_trace)\n",
    1,
)

WORKLOADS = {
    "green request serving (eventlet.wsgi, 3,000 requests)": (
        GREEN,
        {"PATCHGUARD_MODE": "eventlet"},
        "",
    ),
    "native thread pool, 10,000 request-like tasks (JSON round trip)": (
        POOL,
        {"PATCHGUARD_MODE": "native"},
        "request",
    ),
    "native thread pool, 10,000 no-op tasks (the per-task cost alone)": (
        POOL,
        {"PATCHGUARD_MODE": "native"},
        "tiny",
    ),
}
WATCHDOG_ON = {"PATCHGUARD_WATCHDOG": "0.1"}


def _once(code: str, extra: dict[str, str], arg: str) -> tuple[float, float]:
    out = subprocess.run(
        [PY, "-c", code, *([arg] if arg else [])],
        env=env(**extra),
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    wall, cpu = out.split()[-2:]
    return float(wall), float(cpu)


def overhead(rounds: int) -> None:
    """Print the on/off table for each workload."""
    for title, (code, base, arg) in WORKLOADS.items():
        sides = {
            "watchdog off": (code, base, arg),
            "watchdog on (0.1 s)": (code, {**base, **WATCHDOG_ON}, arg),
        }
        if code is GREEN:
            sides["anchor: greenlet.settrace switch counter"] = (
                SETTRACE,
                base,
                arg,
            )
        names = list(sides)
        samples: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
        for i in range(rounds):
            shift = i % len(names)
            for name in names[shift:] + names[:shift]:
                samples[name].append(_once(*sides[name]))
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
        print(f"\n{rounds} interleaved pairs; goal <= 1.02x\n")


def latency() -> None:
    """Print how long after a hub block starts the report arrives."""
    out = subprocess.run(
        [PY, "-c", LATENCY],
        env=env(PATCHGUARD_MODE="eventlet"),
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    values = json.loads(out.splitlines()[-1])
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
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    overhead(rounds)
    latency()


if __name__ == "__main__":
    main()
