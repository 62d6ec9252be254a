"""``make bench``: run every ``benchmarks/bench_*.py`` and print its table.

Each benchmark measures its side of the comparison and its anchors side by
side, interleaved, in one run (the machines are shared and noisy), and
prints ratios.  Nothing here asserts a speed: the numbers are for reading.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    """Run the benchmarks named on the command line, or all of them."""
    wanted = sys.argv[1:]
    scripts = sorted(HERE.glob("bench_*.py"))
    if wanted:
        scripts = [s for s in scripts if any(w in s.name for w in wanted)]
    env = dict(os.environ, EVENTLET_TESTS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), str(HERE)])
    failed = 0
    for script in scripts:
        print(f"## {script.name}\n", flush=True)
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, str(script)], env=env, check=False
        )
        print(
            f"\n({script.name}: {time.perf_counter() - start:.1f} s, "
            f"exit {result.returncode})\n",
            flush=True,
        )
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
