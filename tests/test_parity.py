"""Dual-mode runs: ``pytest --patchguard-modes`` and ``patchguard parity``.

Every run is a real subprocess (pytester's ``runpytest_subprocess``, or
the installed ``patchguard`` command): each mode patches, in a child
interpreter of its own.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import run_isolated, scrub_env

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.isolated

DATA = Path(__file__).parent / "data"

# A suite whose first test depends on green scheduling order: once the
# worker yields, a greenthread runs again only when the main one yields;
# a native thread runs at once.
SUITE = """
import threading, time
import pytest

def _order():
    order = []
    def work():
        time.sleep(0)
        order.append("worker")
    worker = threading.Thread(target=work)
    worker.start()
    deadline = time.monotonic() + 0.5
    while not order and time.monotonic() < deadline:
        pass  # never yields to the hub
    order.append("main")
    worker.join()
    return order

def test_green_order():
    assert _order()[0] == "main"

@pytest.mark.patchguard_mode_specific
def test_green_order_known():
    assert _order()[0] == "main"

@pytest.mark.slowish
def test_stable():
    assert 1 + 1 == 2

def test_fails_everywhere():
    assert False
"""

Runner = Callable[..., pytest.RunResult]


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """Run pytest in a subprocess, scrubbed environment, suite written."""
    scrub_env(monkeypatch)
    pytester.makepyfile(test_suite=SUITE)
    pytester.makeini("[pytest]\nmarkers =\n    slowish: a marker\n")

    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", *args, timeout=120
        )

    return run


def test_modes_report_the_order_dependent_test(run: Runner) -> None:
    """Both modes run; the order-dependent test is listed as differing,
    the marked one as allowed, and the run exits 1."""
    result = run("--patchguard-modes=eventlet,native")
    result.stdout.fnmatch_lines(
        [
            "patchguard: run 1/2: mode=eventlet",
            "*patchguard: mode=eventlet patched=*",
            "patchguard: run 2/2: mode=native",
            "*patchguard: mode=native patched=none*",
            "patchguard: eventlet: 4 tests (1 failed, 3 passed), exit 1",
            "patchguard: native: 4 tests (3 failed, 1 passed), exit 1",
            "patchguard: 2 test(s) differ between modes (1 not marked "
            "patchguard_mode_specific):",
            "*test_suite::test_green_order *passed*failed*DIFFERS",
            "*test_suite::test_green_order_known *passed*failed*allowed*",
        ]
    )
    assert (
        "test_fails_everywhere"
        not in result.stdout.str().split("differ between modes")[1]
    )
    assert result.ret == 1


def test_modes_compose_with_k_markers_and_allowance(run: Runner) -> None:
    """-k and -m reach both runs; an allowed (marked) difference alone
    leaves the status 0."""
    result = run(
        "--patchguard-modes=eventlet,native",
        "-k",
        "known or stable",
        "-m",
        "slowish or patchguard_mode_specific",
    )
    result.stdout.fnmatch_lines(
        [
            "patchguard: eventlet: 2 tests (2 passed), exit 0",
            "patchguard: native: 2 tests (1 failed, 1 passed), exit 1",
            "*test_green_order_known *passed*failed*mode-specific (allowed)",
        ]
    )
    assert result.ret == 0


def test_modes_compose_with_x_and_strict(
    run: Runner, pytester: pytest.Pytester
) -> None:
    """-x and --patchguard-strict apply in each child: the leaked thread
    fails its test in both modes and -x stops each run there; failing in
    every mode is no difference, yet the status is 1."""
    pytester.makepyfile(
        test_leak="""
        import threading, time
        def test_leaks():
            threading.Thread(target=time.sleep, args=(3,)).start()
        """
    )
    result = run(
        "--patchguard-modes=eventlet,native",
        "--patchguard-strict",
        "-x",
        "-k",
        "leaks or every",
    )
    result.stdout.fnmatch_lines(
        [
            "*left 1 thread(s) running after teardown*",
            "patchguard: eventlet: 1 tests (1 error), exit 1",
            "patchguard: native: 1 tests (1 error), exit 1",
            "patchguard: no test differs between modes",
        ]
    )
    assert result.ret == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--patchguard-modes=eventlet",), "*--patchguard-modes='eventlet'*"),
        (("--patchguard-modes=eventlet,green",), "*accepted: two or more*"),
        (
            ("--patchguard-modes=eventlet,native", "--patchguard-mode=native"),
            "*cannot be combined*",
        ),
    ],
)
def test_modes_bad_values(
    run: Runner, args: tuple[str, ...], message: str
) -> None:
    """A bad --patchguard-modes is a usage error naming value and choices."""
    result = run(*args)
    assert result.ret == 4
    result.stderr.fnmatch_lines([message])


# --- patchguard parity -------------------------------------------------


def _suite(tmp_path: Path) -> Path:
    dest = tmp_path / "parity_suite"
    shutil.copytree(DATA / "parity_suite", dest)
    return dest


def _stestr() -> str:
    found = shutil.which("stestr", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("stestr is not installed (extra 'parity')")
    return found


def test_parity_stestr_subunit(tmp_path: Path) -> None:
    """parity runs a stestr suite once per mode, reads its subunit stream
    and lists the order-dependent test (exit 1)."""
    suite = _suite(tmp_path)
    res = run_isolated(
        "-m patchguard",
        "parity",
        "--",
        _stestr(),
        "run",
        "--subunit",
        cwd=suite,
        timeout=180,
    )
    assert res.returncode == 1, res.stdout + res.stderr
    assert "patchguard: eventlet: 3 tests (2 passed, 1 skipped)" in res.stdout
    assert "patchguard: native: 3 tests (1 failed, 1 passed, 1 skipped)" in (
        res.stdout
    )
    line = next(
        x for x in res.stdout.splitlines() if "test_started_thread" in x
    )
    assert line.split()[1:] == ["passed", "failed", "DIFFERS"]


def test_mode_specific_globs_and_verdict() -> None:
    """--mode-specific globs allow a difference; the status is then that of
    the tests failing everywhere (1) or 0; a run's status 2+ wins."""
    from patchguard._parity import results as r

    runs = {
        "eventlet": r.Outcomes({"a.order": "passed", "b": "passed"}),
        "native": r.Outcomes({"a.order": "failed", "b": "skipped"}),
    }
    diffs = r.compare(runs)
    assert [(d.test, d.allowed) for d in diffs] == [("a.order", False)]
    assert r.verdict([0, 1], runs, diffs) == 1
    allowed = r.compare(runs, ["*order"])
    assert [(d.test, d.allowed) for d in allowed] == [("a.order", True)]
    assert r.verdict([0, 1], runs, allowed) == 0
    assert r.verdict([0, 2], runs, allowed) == 2
    runs["native"].by_test["c"] = runs["eventlet"].by_test["c"] = "error"
    assert r.verdict([1, 1], runs, allowed) == 1


def test_parity_junit_and_project_switch(tmp_path: Path) -> None:
    """With {junitxml} in the command, parity reads JUnit XML; --project
    sets the project's legacy switch per mode."""
    (tmp_path / "test_env.py").write_text(
        "import os\n"
        "def test_switch():\n"
        "    mode = os.environ['PATCHGUARD_MODE']\n"
        "    flag = os.environ['OS_DEMO_DISABLE_EVENTLET_PATCHING']\n"
        "    assert flag == {'native': 'true', 'eventlet': 'false'}[mode]\n"
        "def test_native_only():\n"
        "    assert os.environ['PATCHGUARD_MODE'] == 'native'\n"
    )
    res = run_isolated(
        "-m patchguard",
        "parity",
        "--project",
        "demo",
        "--",
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--junitxml={junitxml}",
        "test_env.py",
        cwd=tmp_path,
        timeout=120,
    )
    assert res.returncode == 1, res.stdout + res.stderr
    table = res.stdout.split("differ between modes")[1].splitlines()[1:]
    rows = [x.split() for x in table]
    assert rows == [
        ["test", "eventlet", "native", "note"],
        ["test_env::test_native_only", "failed", "passed", "DIFFERS"],
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "needs the test command after '--'"),
        (("--",), "the command after '--' is empty"),
        (("--modes", "native", "--", "true"), "--modes='native'"),
        (("--project", "no-way", "--", "true"), "--project='no-way'"),
        (("--bogus", "--", "true"), "unknown option '--bogus'"),
    ],
)
def test_parity_usage_errors(args: tuple[str, ...], message: str) -> None:
    """Bad parity command lines exit 2 naming the argument and value."""
    res = run_isolated("-m patchguard", "parity", *args)
    assert res.returncode == 2
    assert message in res.stderr
