"""The import-order audit's cost, and the thread-start watch's.

* the audit (early threads + stale-reference snapshot and scan) over 2,000
  imported modules — goal <= 20 ms; then again once real library modules
  (sphinx, docutils, jinja2, pygments, babel, amqp: classes, registries,
  module-level objects, all of which the scan looks into) are loaded too;
* ``Thread.start()`` with patchguard's watch vs without — goal <= 1.05x.

Run: ``python benchmarks/bench_audit.py``.  Nothing here patches: the audit
is timed exactly as the bootstrap runs it, minus eventlet's own work.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
import types

import patchguard  # noqa: F401  (installs the thread-start watch)
from patchguard._decision.policy import DEFAULT_OPTIONS
from patchguard._detectors import stale as _stale
from patchguard._detectors import threads as _threads_audit
from patchguard._hooks import threadwatch as _threadwatch


def _fake_modules(count: int) -> None:
    # Modules shaped like real ones: functions, classes, constants and a
    # few imported stdlib objects (which are *not* stale: not replaced).
    import json
    import os

    for i in range(count):
        mod = types.ModuleType(f"benchpkg.mod{i}")
        namespace = mod.__dict__
        for j in range(25):
            namespace[f"CONST_{j}"] = j
        for j in range(10):
            namespace[f"func_{j}"] = lambda j=j: j
        namespace["Klass"] = type("Klass", (), {})
        namespace["os"] = os
        namespace["dumps"] = json.dumps
        sys.modules[mod.__name__] = mod


def audit_once(clean: bool = True) -> float:
    """Run the full audit once; return seconds.

    :param clean: assert that nothing is found (synthetic modules only).
    """
    start = time.perf_counter()
    _threads_audit.find((threading.get_ident(),))
    _threads_audit.foreign()
    snapshot = _stale.Snapshot(DEFAULT_OPTIONS)
    refs = _stale.scan(snapshot)
    elapsed = time.perf_counter() - start
    assert refs == [] or not clean, refs
    return elapsed


def _libraries() -> list[str]:
    import importlib

    loaded = []
    for name in (
        "sphinx.application",
        "docutils.core",
        "jinja2",
        "pygments.lexers",
        "babel.core",
        "amqp",
    ):
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        loaded.append(name.split(".")[0])
    return loaded


def thread_batch(n: int) -> float:
    """Start and join ``n`` threads; return seconds per thread."""
    start = time.perf_counter()
    for _ in range(n):
        t = threading.Thread(target=int)
        t.start()
        t.join()
    return (time.perf_counter() - start) / n


def main() -> None:
    """Print both tables."""
    for name in ("os", "select", "socket", "ssl", "subprocess", "queue"):
        __import__(name)
    for green in (
        "os",
        "select",
        "selectors",
        "socket",
        "ssl",
        "Queue",
        "thread",
        "threading",
        "time",
        "subprocess",
    ):
        __import__(f"eventlet.green.{green}")
    _fake_modules(2000)
    total = len(sys.modules)
    audit_once()  # warm
    samples = [audit_once() for _ in range(25)]
    print("### Import-order audit")
    print()
    print(
        f"modules in sys.modules: {total} (2,000 synthetic + "
        f"{total - 2000} real)"
    )
    print()
    print("| measure | median (ms) | min (ms) | max (ms) |")
    print("|---|---:|---:|---:|")
    print(
        f"| audit (threads + stale refs) | "
        f"{statistics.median(samples) * 1000:.2f} | "
        f"{min(samples) * 1000:.2f} | {max(samples) * 1000:.2f} |"
    )
    libraries = _libraries()
    if libraries:
        audit_once(clean=False)  # warm
        real = [audit_once(clean=False) for _ in range(25)]
        print(
            f"| + {len(sys.modules) - total} library modules "
            f"({', '.join(libraries)}) | "
            f"{statistics.median(real) * 1000:.2f} | "
            f"{min(real) * 1000:.2f} | {max(real) * 1000:.2f} |"
        )
    print()
    print("goal: <= 20 ms")
    print()
    watched: list[float] = []
    bare: list[float] = []
    for i in range(30):
        for side in ("w", "b") if i % 2 else ("b", "w"):
            if side == "w":
                _threadwatch.watch()
                watched.append(thread_batch(100))
            else:
                _threadwatch.unwatch()
                bare.append(thread_batch(100))
    _threadwatch.watch()
    med_w, med_b = statistics.median(watched), statistics.median(bare)
    print("### Thread start with the watch hook")
    print()
    print("| variant | median per start+join (us) | ratio |")
    print("|---|---:|---:|")
    print(f"| without watch | {med_b * 1e6:.1f} | 1.000x |")
    print(f"| with watch | {med_w * 1e6:.1f} | {med_w / med_b:.3f}x |")
    print()
    print("goal: <= 1.05x")


if __name__ == "__main__":
    main()
