"""The bulk part of ``bench_subproc.py`` (1 MB and 50 MB, 3 pairs).

Run: ``python benchmarks/bench_subproc_bulk.py [pairs]``.
"""

from __future__ import annotations

import sys

import bench_subproc

if __name__ == "__main__":
    sys.argv[1:] = ["bulk", *(sys.argv[1:] or ["3"])]
    bench_subproc.main()
