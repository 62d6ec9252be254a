"""8 threads bootstrap at once (argv[1]: PATCHGUARD_MODE).

Native mode: one decision, the same state for all.  Eventlet mode: every
caller is refused with PatchOrderError and nothing is patched (patching
while threads wait in the bootstrap made the process unable to exit);
the main thread then bootstraps alone, and the process exits by itself.
"""

import os
import sys
import threading

os.environ["PATCHGUARD_MODE"] = sys.argv[1]

import eventlet.patcher  # noqa: E402

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
        errors.append(f"{type(exc).__name__}: {exc}")


threads = [threading.Thread(target=boot) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join(timeout=20)
refused_calls = len(calls)
then = patchguard.apply()

from _emit import emit  # noqa: E402

emit(
    monkey_patch_calls_while_racing=refused_calls,
    monkey_patch_calls=len(calls),
    results=len(states),
    same_object=len({id(s) for s in states}) == 1,
    errors=errors,
    then_mode=then.mode,
)
