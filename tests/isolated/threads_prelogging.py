"""Logging configured *before* the bootstrap: its locks get shared too.

A handler made before patching, logging's module lock, and a handler made
after all get :class:`patchguard.threads.SharedRLock`; then a native
thread and greenthreads log through the early handler at once.  The mode
comes from ``PATCHGUARD_MODE``.  Prints one JSON line.
"""

import io
import logging

early = logging.StreamHandler(io.StringIO())
logging.getLogger().addHandler(early)
logging.getLogger().setLevel(logging.INFO)
import patchguard.bootstrap  # noqa: F401

import faulthandler
import json
import threading
import time

import patchguard
from patchguard import threads

faulthandler.dump_traceback_later(40, exit=True)
late = logging.FileHandler("/dev/null")
LOG = logging.getLogger("chatter")  # propagates to the early root handler


def chatter(who, n):
    for i in range(n):
        LOG.info("%s %d", who, i)
        if who.startswith("green"):
            time.sleep(0)


native = threads.native_thread(chatter, "native", 2000)
greens = [
    threading.Thread(target=chatter, args=(f"green{n}", 500)) for n in range(4)
]
for g in greens:
    g.start()
for g in greens:
    g.join(20)
native.join(20)
lines = early.stream.getvalue().splitlines()
print(
    json.dumps(
        {
            "mode": patchguard.state().mode,
            "early_lock": type(early.lock).__name__,
            "late_lock": type(late.lock).__name__,
            "module_lock": type(logging._lock).__name__,
            "lines": len(lines),
            "native_lines": sum(1 for x in lines if x.startswith("native")),
        }
    )
)
