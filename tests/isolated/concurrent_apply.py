"""8 threads bootstrap at once: eventlet patches exactly once."""

import threading

import eventlet.patcher

calls = []
_real = eventlet.patcher.monkey_patch


def counting(**kw):
    calls.append(kw)
    return _real(**kw)


eventlet.patcher.monkey_patch = counting
eventlet.monkey_patch = counting

import patchguard  # noqa: E402

barrier = threading.Barrier(8)
states = []
errors = []


def boot():
    barrier.wait()
    try:
        states.append(patchguard.apply())
    except Exception as exc:  # noqa: BLE001
        errors.append(repr(exc))


threads = [threading.Thread(target=boot, daemon=True) for _ in range(8)]
for t in threads:
    t.start()
# Joins of threads started before patching can hang (that is the hazard
# patchguard reports), so wait on the results instead.
import time  # noqa: E402

deadline = time.monotonic() + 20
while len(states) + len(errors) < 8 and time.monotonic() < deadline:
    time.sleep(0.01)

from _emit import emit  # noqa: E402

emit(
    monkey_patch_calls=len(calls),
    results=len(states),
    same_object=len({id(s) for s in states}) == 1,
    errors=errors,
)
# Threads that predate patching cannot be joined reliably (the very hazard
# patchguard reports): leave without the interpreter's shutdown joins.
import os  # noqa: E402

os._exit(0)
