"""fork() with live native threads: ForkWarning per distinct thread set.

argv[1] picks the scenario: pool, mp, subprocess, none, sets.
"""

import patchguard.bootstrap  # noqa: F401
import concurrent.futures
import os
import subprocess
import sys
import threading
import warnings

from _emit import emit

scenario = sys.argv[1]
stop = threading.Event()


def heartbeat():
    stop.wait()


def fork_and_wait(child=lambda: 0):
    pid = os.fork()
    if pid == 0:
        os._exit(child())
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


warnings.simplefilter("always")
extra = {}
with warnings.catch_warnings(record=True) as caught:
    if scenario == "pool":
        pool = concurrent.futures.ThreadPoolExecutor(2)
        pool.submit(int).result()  # starts the pool's worker thread

        def use_pool():
            try:
                pool.submit(int).result(timeout=2)
            except concurrent.futures.TimeoutError:
                return 7
            return 0

        extra["child"] = [fork_and_wait(use_pool), fork_and_wait(use_pool)]
    elif scenario == "mp":
        import multiprocessing

        threading.Thread(target=heartbeat, name="beat").start()
        proc = multiprocessing.get_context("fork").Process(target=int)
        proc.start()
        proc.join()
        extra["child"] = [proc.exitcode]
    elif scenario == "subprocess":
        threading.Thread(target=heartbeat, name="beat").start()
        subprocess.run(["true"], check=True)
        subprocess.run(["true"], check=True, preexec_fn=os.getpid)
    elif scenario == "none":
        extra["child"] = [fork_and_wait()]
    elif scenario == "sets":
        threading.Thread(target=heartbeat, name="first").start()
        fork_and_wait()
        fork_and_wait()
        threading.Thread(target=heartbeat, name="second").start()
        fork_and_wait()
        fork_and_wait()
stop.set()
emit(caught, **extra)
