"""pytest plugin cost: a generated 2,000-test suite with and without it.

The "with" side turns everything on (``--patchguard-strict``, so each test
pays the leaked-thread snapshots, plus ``--patchguard-expect`` and the
marker pass); the "without" side is ``-p no:patchguard``.  Both run the
suite in the same mode, so only the plugin differs: in native mode the
plugin's bootstrap (``--patchguard-mode=native``) is on the "with" side
only, since a native bootstrap imports nothing; in eventlet mode both
sides bootstrap from the suite's ``conftest.py``.  Sides alternate in
every round and medians of whole ``python -m pytest`` runs are compared.

Run: ``python benchmarks/bench_pytest_plugin.py [rounds] [tests]``
(defaults 5 and 2000; about 80 s on a busy two-core machine).
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import PY, env

MODULES = 20
GOAL = 1.02


def _module(first: int, count: int) -> str:
    lines = [
        "import pytest",
        "",
        "",
        "@pytest.fixture",
        "def value():",
        "    return 41",
        "",
    ]
    for n in range(first, first + count):
        # Half the tests use a fixture, as real suites do.
        if n % 2:
            lines += [
                "",
                f"def test_{n}(value):",
                "    assert value + 1 == 42",
            ]
        else:
            lines += ["", f"def test_{n}():", f"    assert {n} + 1 > {n}"]
    return "\n".join(lines) + "\n"


def make_suite(root: Path, tests: int, bootstrap: bool) -> Path:
    """Write a suite of ``tests`` trivial tests under ``root``.

    :param root: an empty directory.
    :param tests: how many tests in all.
    :param bootstrap: add a ``conftest.py`` that imports the bootstrap.
    :returns: ``root``.
    """
    root.mkdir()
    # An ini file of its own: the suite's rootdir, and no parent config.
    (root / "pytest.ini").write_text(
        "[pytest]\naddopts = -p no:cacheprovider\n"
    )
    if bootstrap:
        (root / "conftest.py").write_text("import patchguard.bootstrap\n")
    per = tests // MODULES
    for m in range(MODULES):
        count = per if m < MODULES - 1 else tests - per * (MODULES - 1)
        (root / f"test_gen_{m:02d}.py").write_text(_module(m * per, count))
    return root


def _command(suite: Path, args: list[str]) -> list[str]:
    return [PY, "-m", "pytest", "-q", str(suite), *args]


def _run(
    suite: Path, args: list[str], environ: dict[str, str]
) -> tuple[float, float, str]:
    """Run the suite once.

    :returns: wall seconds, CPU seconds (user + system) of the child, and
        the plugin's header line (or a placeholder).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        _command(suite, args),
        env=environ,
        capture_output=True,
        text=True,
        cwd=suite,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0 or " passed" not in proc.stdout:
        raise SystemExit(f"suite failed ({args}):\n{proc.stdout}{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (
        after.ru_stime - before.ru_stime
    )
    header = [
        x for x in proc.stdout.splitlines() if x.startswith("patchguard:")
    ]
    return wall, cpu, header[0] if header else "(no patchguard line)"


# The strict checks alone, per test, without pytest around them: a
# figure the noise of whole runs cannot hide.
_PER_TEST = """
import time
import patchguard.bootstrap
from patchguard import _state, pytest_plugin
if _state.state().mode == "eventlet":
    import eventlet
    eventlet.sleep(0)  # a suite that uses eventlet has a hub
class Item:
    nodeid = "bench"
watch, item, n, best = pytest_plugin.LeakWatch(), Item(), 20000, 1.0
for _ in range(5):
    start = time.perf_counter()
    for _ in range(n):
        watch.pytest_runtest_call()
        watch.pytest_runtest_teardown(item)
    best = min(best, (time.perf_counter() - start) / n)
print(best)
"""


def per_test_cost(environ: dict[str, str]) -> float:
    """Return the seconds the strict checks cost one passing test."""
    out = subprocess.run(
        [PY, "-c", _PER_TEST],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.split()[-1])


def compare(
    title: str,
    suite: Path,
    sides: dict[str, list[str]],
    environ: dict[str, str],
    rounds: int,
    tests: int,
) -> str:
    """Time the sides of one comparison, alternating; return a table.

    The first side is the baseline.  The machines are shared and noisy:
    other jobs only ever add time, so the smallest CPU time (user +
    system) of the child is the steadiest figure; the wall-time median is
    shown too.
    """
    walls: dict[str, list[float]] = {name: [] for name in sides}
    cpus: dict[str, list[float]] = {name: [] for name in sides}
    headers: dict[str, str] = {}
    names = list(sides)
    for name in names:
        # Untimed warm-up: fills the page cache and pytest's cache of
        # rewritten test modules.
        headers[name] = _run(suite, sides[name], environ)[2]
    for i in range(rounds):
        for name in names if i % 2 == 0 else names[::-1]:
            wall, cpu, headers[name] = _run(suite, sides[name], environ)
            walls[name].append(wall)
            cpus[name].append(cpu)
    base_wall = statistics.median(walls[names[0]])
    base_cpu = min(cpus[names[0]])
    lines = [
        f"### {title}",
        "",
        "| variant | wall median (s) | wall min (s) | CPU min (s) "
        "| ratio, wall median | ratio, CPU min |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        wall = statistics.median(walls[name])
        cpu = min(cpus[name])
        lines.append(
            f"| {name} | {wall:.2f} | {min(walls[name]):.2f} | {cpu:.2f} "
            f"| {wall / base_wall:.3f}x | {cpu / base_cpu:.3f}x |"
        )
    cost = per_test_cost(environ)
    lines += [
        "",
        f"goal: <= {GOAL}x; {rounds} rounds, sides alternating; the strict "
        f"checks alone cost {cost * 1e6:.1f} us per test, "
        f"{cost * tests * 1e3:.0f} ms per run = "
        f"{cost * tests / base_cpu:.2%} of the baseline's CPU min",
    ]
    for name in names:
        lines.append(
            f"- {name}: `pytest {' '.join(sides[name])}` -> {headers[name]}"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Print one table per mode."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    tests = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    off = ["-p", "no:patchguard"]
    base = env()
    # Let pytest cache its rewritten test modules, as a developer's
    # checkout and most CI runs do.
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory(prefix="pg-bench-") as tmp:
        native = make_suite(Path(tmp, "native"), tests, bootstrap=False)
        green = make_suite(Path(tmp, "eventlet"), tests, bootstrap=True)
        print(
            compare(
                f"pytest plugin, {tests} tests, native mode",
                native,
                {
                    "without plugin": off,
                    "with plugin (strict)": [
                        "--patchguard-mode=native",
                        "--patchguard-expect=native",
                        "--patchguard-strict",
                    ],
                },
                base,
                rounds,
                tests,
            )
        )
        print(
            compare(
                f"pytest plugin, {tests} tests, eventlet mode",
                green,
                {
                    "without plugin": off,
                    "with plugin (strict)": [
                        "--patchguard-expect=eventlet",
                        "--patchguard-strict",
                    ],
                },
                {**base, "PATCHGUARD_MODE": "eventlet"},
                rounds,
                tests,
            )
        )


if __name__ == "__main__":
    main()
