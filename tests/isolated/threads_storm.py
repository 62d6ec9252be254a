"""Logging storm: 2 native threads and 20 greenthreads log at once.

``argv[1]``: ``patchguard`` (bootstrap in the mode ``PATCHGUARD_MODE``
says) or ``bare`` (a plain ``eventlet.monkey_patch()``, the control).
``argv[2]``: lines per worker; ``argv[3]``: the log file.

Two handlers on one logger: a FileHandler, and a handler that yields to
the hub inside its lock when a greenthread calls it (as a SysLogHandler
on a green socket does), so greenthreads and native threads really
contend for handler locks.  ``argv[4]``: seconds before a hang dumps the
stacks and exits 1.  Prints one JSON line.
"""

import sys

if sys.argv[1] == "bare":
    import eventlet

    eventlet.monkey_patch()
else:
    import patchguard.bootstrap  # noqa: F401

import faulthandler
import json
import logging
import re
import time

import greenlet

from patchguard import threads

# Armed after patching: the watchdog is a C thread the bootstrap would
# otherwise report as started too early.
faulthandler.dump_traceback_later(float(sys.argv[4]), exit=True)

LINES = int(sys.argv[2])
PATH = sys.argv[3]
GREEN = 20
NATIVE = 2


class YieldingHandler(logging.Handler):
    """Counts records; a greenthread yields to the hub while holding it."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def emit(self, record):
        self.count += 1
        if greenlet.getcurrent().parent is not None:
            time.sleep(0)


log = logging.getLogger("storm")
log.propagate = False
log.setLevel(logging.INFO)
file_handler = logging.FileHandler(PATH, mode="w")
file_handler.setFormatter(logging.Formatter("%(threadName)s %(message)s"))
yielding = YieldingHandler()
log.addHandler(file_handler)
log.addHandler(yielding)
errors = []


def work(who):
    try:
        for i in range(LINES):
            log.info("%s %d", who, i)
    except BaseException as exc:  # report, never hide
        errors.append(f"{who}: {exc!r}")
        raise


start = time.monotonic()
natives = [
    threads.native_thread(work, f"native{n}", name=f"native-{n}")
    for n in range(NATIVE)
]
if "eventlet" in sys.modules:
    import eventlet

    greens = [eventlet.spawn(work, f"green{n}") for n in range(GREEN)]
    for g in greens:
        g.wait()
else:
    greens = [threads.native_thread(work, f"green{n}") for n in range(GREEN)]
    for g in greens:
        g.join()
for t in natives:
    t.join()
elapsed = time.monotonic() - start
file_handler.close()

seen = {}
line_re = re.compile(r"^(.*) (\w+) (\d+)$")
with open(PATH) as f:
    for line in f:
        m = line_re.match(line.rstrip("\n"))
        if m:
            key = (m.group(2), int(m.group(3)))
            seen[key] = seen.get(key, 0) + 1
            if m.group(2).startswith("native") and m.group(1) != (
                "native-" + m.group(2)[6:]
            ):
                errors.append(f"wrong threadName {m.group(1)!r}: {line}")
expected = {
    (f"{kind}{n}", i)
    for kind, count in (("native", NATIVE), ("green", GREEN))
    for n in range(count)
    for i in range(LINES)
}
print(
    json.dumps(
        {
            "elapsed": round(elapsed, 3),
            "expected": len(expected),
            "found": len(seen),
            "missing": len(expected - set(seen)),
            "duplicated": sum(1 for v in seen.values() if v > 1),
            "yielding_handler_records": yielding.count,
            "errors": errors[:5],
            "handler_lock": type(file_handler.lock).__name__,
            "module_lock": type(logging._lock).__name__,
        }
    )
)
