"""Run what a warning's advice claims, in an eventlet-mode process.

argv[1]:
- ``lock``/``rlock``: two greenthreads take a native (thread unpatched)
  Lock/RLock and hold it across a green sleep; prints the most holders
  seen at once (the Lock case never finishes: the test's timeout is the
  deadlock).
- ``pool-fork``/``pool-spawn``: multiprocessing.Pool.map (hangs).
- ``ppe-spawn``/``ppe-fork``: ProcessPoolExecutor.map with that context.
- ``process-spawn``: one multiprocessing.Process, joined.
"""

import sys
import warnings

warnings.simplefilter("ignore")

import patchguard.bootstrap  # noqa: E402, F401


def square(x):
    return x * x


def locks(kind):
    import threading
    import time

    import eventlet

    lock = threading.Lock() if kind == "lock" else threading.RLock()
    inside = []
    most = []

    def worker(n):
        with lock:
            inside.append(n)
            most.append(len(inside))
            time.sleep(0.2)
            inside.remove(n)

    threads = [eventlet.spawn(worker, n) for n in range(2)]
    for t in threads:
        t.wait()
    print(f"most-holders={max(most)}", flush=True)


def processes(kind):
    import multiprocessing

    what, method = kind.split("-")
    ctx = multiprocessing.get_context(method)
    if what == "pool":
        with ctx.Pool(2) as pool:
            print(f"result={pool.map(square, [1, 2, 3])}", flush=True)
    elif what == "ppe":
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(2, mp_context=ctx) as ex:
            print(f"result={list(ex.map(square, [1, 2, 3]))}", flush=True)
    else:
        proc = ctx.Process(target=square, args=(3,))
        proc.start()
        proc.join()
        print(f"exitcode={proc.exitcode}", flush=True)


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind in ("lock", "rlock"):
        locks(kind)
    else:
        processes(kind)
