"""benchmarks/bench_api_three_ways.py: the smoke run (a second per cell).

Runs the benchmark as ``make bench`` does, in its own interpreter, with
``--smoke``: the same WSGI app under uWSGI, eventlet.wsgi and werkzeug's
threaded server, against a private MariaDB (or SQLite when MariaDB cannot
start: the output says which).  Only correctness is checked: every server
answered at every concurrency without an error.  Speed is never asserted.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, clean_env

pytestmark = [pytest.mark.hosts, pytest.mark.slow]


def test_api_three_ways_smoke() -> None:
    """All three servers serve the DB-backed API at c=1/10/50, no errors."""
    uwsgi = Path(sys.executable).parent / "uwsgi"
    if not uwsgi.exists() and shutil.which("uwsgi") is None:
        pytest.skip("uwsgi is not installed (pip install -e '.[hosts]')")
    pytest.importorskip("werkzeug", reason="werkzeug is not installed")
    pytest.importorskip("pymysql", reason="PyMySQL is not installed")
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_api_three_ways.py"),
            "--smoke",
            "--json",
        ],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.splitlines()[-1])
    print("database:", report["database"])
    assert report["database"].startswith(("MariaDB", "SQLite"))
    cells = {(r["server"], r["concurrency"]): r for r in report["results"]}
    assert sorted(cells) == sorted(
        (server, conc)
        for server in ("uwsgi", "eventlet.wsgi", "werkzeug")
        for conc in (1, 10, 50)
    )
    for cell, result in cells.items():
        assert result["requests"] > 0, cell
        assert result["errors"] == 0, (cell, result)
        assert result["p50"] <= result["p99"], cell
