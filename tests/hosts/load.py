"""Load client: ``load.py PORT MODE TOTAL CONCURRENCY``.

Sends TOTAL GET requests to ``http://127.0.0.1:PORT/``, CONCURRENCY at a
time (one connection per request), and counts a response as ok only when
it is a 200 whose JSON says ``"mode": MODE``.  Prints one JSON line.
"""

import http.client
import json
import sys
import threading
import time

port, mode, total, concurrency = (
    int(sys.argv[1]),
    sys.argv[2],
    int(sys.argv[3]),
    int(sys.argv[4]),
)
lock = threading.Lock()
state = {"next": 0, "ok": 0, "errors": 0, "samples": [], "pids": set()}


def one():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/", headers={"Connection": "close"})
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    if resp.status != 200:
        raise ValueError(f"HTTP {resp.status}: {body[:200]!r}")
    data = json.loads(body)
    if data.get("mode") != mode:
        raise ValueError(f"mode {data.get('mode')!r} != {mode!r}")
    return data["pid"]


def worker():
    while True:
        with lock:
            if state["next"] >= total:
                return
            state["next"] += 1
        try:
            pid = one()
        except Exception as exc:
            with lock:
                state["errors"] += 1
                if len(state["samples"]) < 5:
                    state["samples"].append(repr(exc))
        else:
            with lock:
                state["ok"] += 1
                state["pids"].add(pid)


start = time.monotonic()
workers = [threading.Thread(target=worker) for _ in range(concurrency)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(
    json.dumps(
        {
            "ok": state["ok"],
            "errors": state["errors"],
            "samples": state["samples"],
            "seconds": round(time.monotonic() - start, 3),
            "pids": sorted(state["pids"]),
        }
    )
)
