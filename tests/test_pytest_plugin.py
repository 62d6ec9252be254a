"""The pytest plugin, driven through real pytest subprocesses.

Every run is ``pytester.runpytest_subprocess``: the plugin patches, and
patching in this process would leak into every test after it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import scrub_env

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.isolated

MISMATCH = (
    "ERROR: patchguard: expected {expect} mode, found {found} "
    "(decided_by=PATCHGUARD_MODE)"
)
#: an inner test that leaves a file behind when it runs.
RAN = """
def test_runs():
    open("ran.txt", "w").close()
"""


Runner = Callable[..., pytest.RunResult]


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """Run pytest in a subprocess with a scrubbed environment."""
    scrub_env(monkeypatch)

    def run(*args: str, **env: str) -> pytest.RunResult:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", *args, timeout=90
        )

    return run


def _stderr_lines(result: pytest.RunResult) -> list[str]:
    return [line for line in result.stderr.lines if line.strip()]


def _text(source: str) -> str:
    # How pytester's makepyfile writes a source: dedented and stripped.
    return textwrap.dedent(source).strip() + "\n"


def _write(path: Path, source: str) -> None:
    path.write_text(_text(source))


def _lineno(source: str, fragment: str) -> int:
    lines = _text(source).splitlines()
    return next(n for n, line in enumerate(lines, 1) if fragment in line)


def test_inert_by_default(pytester: pytest.Pytester, run: Runner) -> None:
    """With nothing asked, the plugin patches nothing and only reports."""
    pytester.makepyfile(
        """
        import os, sys, threading

        def test_untouched(patch_state):
            assert patch_state.mode == "unset"
            assert "eventlet" not in sys.modules
            assert "PATCHGUARD_MODE" not in os.environ
            assert threading.Lock.__module__ == "_thread"
        """
    )
    result = run()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["patchguard: mode=unset patched=none decided_by=None findings=0"]
    )


def test_p_no_patchguard_turns_it_off(
    pytester: pytest.Pytester,
    run: Runner,
) -> None:
    """``-p no:patchguard`` imports nothing: no header, no fixture."""
    pytester.makepyfile(
        """
        import sys

        def test_not_imported():
            assert "patchguard" not in sys.modules

        def test_fixture(patch_state):
            pass
        """
    )
    result = run("-p", "no:patchguard")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fixture 'patch_state' not found*"])
    result.stdout.no_fnmatch_line("patchguard: mode=*")


@pytest.mark.parametrize(
    ("mode", "other"), [("eventlet", "native"), ("native", "eventlet")]
)
def test_mode_option_bootstraps_before_conftests(
    pytester: pytest.Pytester,
    run: Runner,
    mode: str,
    other: str,
) -> None:
    """--patchguard-mode beats the env, precedes conftests, drives markers."""
    pytester.makeconftest(
        """
        import socket

        import patchguard
        import pytest

        SEEN = (patchguard.state().mode, socket.socket.__module__)

        @pytest.fixture
        def seen():
            return SEEN
        """
    )
    pytester.makepyfile(
        f"""
        import os, sys

        import pytest

        def test_state(patch_state, seen):
            assert seen[0] == {mode!r}
            assert seen[1].startswith("eventlet") == ({mode!r} == "eventlet")
            assert patch_state.mode == {mode!r}
            assert patch_state.decided_by == "PATCHGUARD_MODE"
            assert os.environ["PATCHGUARD_MODE"] == {mode!r}
            assert ("thread" in patch_state.patched) == (
                {mode!r} == "eventlet"
            )

        @pytest.mark.eventlet_only
        def test_green():
            import socket
            assert socket.socket.__module__.startswith("eventlet")

        @pytest.mark.native_only
        def test_native():
            assert "eventlet" not in sys.modules
        """
    )
    result = run(
        "--strict-markers",
        "-rs",
        f"--patchguard-mode={mode}",
        PATCHGUARD_MODE=other,
    )
    result.assert_outcomes(passed=2, skipped=1)
    skipped = "native_only" if mode == "eventlet" else "eventlet_only"
    result.stdout.fnmatch_lines(
        [
            f"patchguard: mode={mode} patched=* "
            "decided_by=PATCHGUARD_MODE findings=0",
            f"SKIPPED * {skipped}: the process runs in {mode} mode "
            "(decided_by=PATCHGUARD_MODE)",
        ]
    )


@pytest.mark.parametrize("how", ["option", "ini"])
def test_bootstrap_option_and_ini(
    pytester: pytest.Pytester,
    run: Runner,
    how: str,
) -> None:
    """The bootstrap option and ini key decide before conftests import."""
    pytester.makeconftest(
        """
        import patchguard

        MODE = patchguard.state().mode
        """
    )
    pytester.makepyfile(
        """
        import sys

        def test_seen():
            assert sys.modules["conftest"].MODE == "native"
        """
    )
    args = []
    if how == "option":
        args.append("--patchguard-bootstrap")
    else:
        pytester.makeini("[pytest]\npatchguard_bootstrap = true\n")
    result = run(*args, PATCHGUARD_MODE="native")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["patchguard: mode=native *"])


# (command line, PATCHGUARD_EXPECT, ini patchguard_expect, mismatch?):
# the process always runs native.  Each precedence pair is checked both
# ways round, so the winner is shown to decide, not the loser to be ignored.
EXPECT_CASES = {
    "option": (["--patchguard-expect=eventlet"], None, None, True),
    "env": ([], "eventlet", None, True),
    "ini": ([], None, "eventlet", True),
    "option-over-env": (
        ["--patchguard-expect=native"],
        "eventlet",
        None,
        False,
    ),
    "option-over-env-2": (
        ["--patchguard-expect=eventlet"],
        "native",
        None,
        True,
    ),
    "option-over-ini": (
        ["--patchguard-expect=native"],
        None,
        "eventlet",
        False,
    ),
    "option-over-ini-2": (
        ["--patchguard-expect=eventlet"],
        None,
        "native",
        True,
    ),
    "env-over-ini": ([], "native", "eventlet", False),
    "env-over-ini-2": ([], "eventlet", "native", True),
    "option-any-over-env": (
        ["--patchguard-expect=any"],
        "eventlet",
        None,
        False,
    ),
    "default-any": ([], None, None, False),
}


@pytest.mark.parametrize("case", list(EXPECT_CASES))
def test_expect_precedence(
    pytester: pytest.Pytester,
    run: Runner,
    case: str,
) -> None:
    """Expect: option > env > ini > any; a mismatch exits 4 with one line."""
    args, env, ini, mismatch = EXPECT_CASES[case]
    pytester.makepyfile(RAN)
    if ini is not None:
        pytester.makeini(f"[pytest]\npatchguard_expect = {ini}\n")
    extra = {} if env is None else {"PATCHGUARD_EXPECT": env}
    result = run("--patchguard-mode=native", *args, **extra)
    ran = (pytester.path / "ran.txt").exists()
    if mismatch:
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        assert _stderr_lines(result) == [
            MISMATCH.format(expect="eventlet", found="native")
        ]
        assert not ran
    else:
        assert result.ret == pytest.ExitCode.OK, result.stderr.str()
        assert ran


def test_expect_without_bootstrap_says_how(
    pytester: pytest.Pytester, run: Runner
) -> None:
    """Expecting eventlet when nothing bootstrapped or patched: the process
    is native, and the message names the fix."""
    pytester.makepyfile(RAN)
    result = run("--patchguard-expect=eventlet")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert _stderr_lines(result) == [
        "ERROR: patchguard: expected eventlet mode, found native "
        "(not bootstrapped, nothing patched); nothing imported "
        "patchguard.bootstrap: import it first in tests/__init__.py or pass "
        "--patchguard-bootstrap"
    ]
    assert not (pytester.path / "ran.txt").exists()


def test_expect_judges_a_suite_patched_by_its_own_init(
    pytester: pytest.Pytester, run: Runner
) -> None:
    """A suite whose tests/__init__.py calls eventlet.monkey_patch() (as
    nova's and cinder's do) is in eventlet mode for --patchguard-expect."""
    tests = pytester.mkpydir("tests")
    _write(tests / "__init__.py", "import eventlet\neventlet.monkey_patch()")
    _write(tests / "test_runs.py", RAN)
    result = run("--patchguard-expect=eventlet", "tests")
    result.stdout.fnmatch_lines(
        ["patchguard: mode=unset patched=*thread* "
         "decided_by=eventlet.monkey_patch findings=0"]
    )
    result.assert_outcomes(passed=1)
    native = run("--patchguard-expect=native", "tests")
    assert native.ret == pytest.ExitCode.USAGE_ERROR
    native.stderr.fnmatch_lines(
        [
            "ERROR: patchguard: expected native mode, found eventlet (not "
            "bootstrapped, but eventlet.monkey_patch patched it at "
            "*__init__.py:2)"
        ]
    )


BARE_CONFTEST = """
import threading_lib
"""
THREADING_LIB = """
import threading, time
threading.Thread(
    target=time.sleep, args=(60,), name="conftest-thread", daemon=True
).start()
"""
BARE_TEST = """
import eventlet
eventlet.monkey_patch()

def test_runs():
    open("ran.txt", "w").close()
"""


@pytest.mark.parametrize("strict", [True, False])
def test_bare_monkey_patch_findings_reach_header_and_strict(
    pytester: pytest.Pytester, run: Runner, strict: bool
) -> None:
    """A conftest starts a thread, a test module calls monkey_patch(): the
    header counts the findings; strict exits 4 naming the call's line."""
    pytester.makepyfile(threading_lib=THREADING_LIB)
    pytester.makeconftest(BARE_CONFTEST)
    pytester.makepyfile(test_bare=BARE_TEST)
    args = ["--patchguard-strict"] if strict else []
    result = run(*args, "-W", "ignore::RuntimeWarning")
    result.stdout.fnmatch_lines(
        [
            "patchguard: mode=unset * decided_by=eventlet.monkey_patch "
            "findings=1 (EarlyThreadWarning)"
        ]
    )
    ran = (pytester.path / "ran.txt").exists()
    if strict:
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        site = f"test_bare.py:{_lineno(BARE_TEST, 'monkey_patch()')}"
        result.stderr.fnmatch_lines(
            [
                "ERROR: patchguard: strict: the bare eventlet.monkey_patch() "
                f"at *{site} found 1 finding(s)*",
                "  EarlyThreadWarning: *'conftest-thread'*",
            ]
        )
        assert not ran
    else:
        assert result.ret == pytest.ExitCode.OK
        assert ran


EARLY_PLUGIN = """
import threading, time
threading.Thread(
    target=time.sleep, args=(60,), name="plugin-thread", daemon=True
).start()
"""


def test_strict_culprit_is_never_pytest_or_pluggy(
    pytester: pytest.Pytester, run: Runner
) -> None:
    """When the plugin bootstraps, the strict report names the option, not
    a pytest or pluggy frame."""
    pytester.makepyfile(earlyplugin=EARLY_PLUGIN)
    pytester.makepyfile(RAN)
    result = run(
        "-p",
        "earlyplugin",
        "--patchguard-mode=eventlet",
        "--patchguard-strict",
        "-W",
        "ignore::RuntimeWarning",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: patchguard: strict: the bootstrap at pytest "
            "--patchguard-mode=eventlet found *",
        ]
    )
    text = result.stderr.str()
    assert "pluggy" not in text
    assert "_pytest" not in text
    assert not (pytester.path / "ran.txt").exists()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"PATCHGUARD_EXPECT": "green"},
            "ERROR: patchguard: PATCHGUARD_EXPECT='green' is not valid; "
            "accepted values: 'eventlet', 'native', 'any'",
        ),
        (
            {"PATCHGUARD_PATCH": "bogus"},
            "ERROR: patchguard: PATCHGUARD_PATCH='bogus' is not valid; *",
        ),
    ],
    ids=["expect", "bootstrap"],
)
def test_bad_settings_are_usage_errors(
    pytester: pytest.Pytester,
    run: Runner,
    env: dict[str, str],
    message: str,
) -> None:
    """Bad settings exit 4 naming the variable, before any test runs."""
    pytester.makepyfile(RAN)
    result = run("--patchguard-bootstrap", **env)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert not (pytester.path / "ran.txt").exists()


@pytest.mark.parametrize(
    ("expect", "ok"), [("eventlet", True), ("native", False)]
)
def test_suite_bootstrapping_in_tests_init(
    pytester: pytest.Pytester,
    run: Runner,
    expect: str,
    ok: bool,
) -> None:
    """A bootstrap in tests/__init__.py is what the expect check sees."""
    tests = pytester.mkpydir("tests")
    _write(tests / "__init__.py", "import patchguard.bootstrap")
    _write(
        tests / "test_state.py",
        """
        def test_state(patch_state):
            assert patch_state.mode == "eventlet"
            assert patch_state.site.endswith("__init__.py:1")
            open("ran.txt", "w").close()
        """,
    )
    result = run(
        f"--patchguard-expect={expect}", "tests", PATCHGUARD_MODE="eventlet"
    )
    result.stdout.fnmatch_lines(
        ["patchguard: mode=eventlet * decided_by=PATCHGUARD_MODE findings=0"]
    )
    if ok:
        result.assert_outcomes(passed=1)
    else:
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        assert _stderr_lines(result) == [
            MISMATCH.format(expect="native", found="eventlet")
        ]
        assert not (pytester.path / "ran.txt").exists()


EARLY_INIT = """
import threading
from time import sleep
threading.Thread(
    target=sleep, args=(60,), name="early-bird", daemon=True
).start()
import patchguard.bootstrap
"""


@pytest.mark.parametrize("strict", [True, False])
def test_strict_stops_on_early_threads(
    pytester: pytest.Pytester,
    run: Runner,
    strict: bool,
) -> None:
    """Early threads/stale refs stop a strict session; else just findings."""
    tests = pytester.mkpydir("tests")
    _write(tests / "__init__.py", EARLY_INIT)
    _write(tests / "test_runs.py", RAN)
    args = ["--patchguard-strict"] if strict else []
    result = run(*args, "tests", PATCHGUARD_MODE="eventlet")
    result.stdout.fnmatch_lines(
        [
            "patchguard: mode=eventlet * "
            "findings=2 (EarlyThreadWarning,StaleReferenceWarning)"
        ]
    )
    ran = (pytester.path / "ran.txt").exists()
    if strict:
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        site = f"__init__.py:{_lineno(EARLY_INIT, 'start()')}"
        bootstrap = f"__init__.py:{_lineno(EARLY_INIT, 'bootstrap')}"
        result.stderr.fnmatch_lines(
            [
                f"ERROR: patchguard: strict: the bootstrap at *{bootstrap} "
                "found 2 finding(s), 1 early thread(s) and 1 stale "
                "reference(s); no test was run.",
                f"  EarlyThreadWarning: *'early-bird'*started at *{site})*",
                "  StaleReferenceWarning: *tests.sleep -> time.sleep*",
            ]
        )
        assert not ran
    else:
        assert result.ret == pytest.ExitCode.OK
        assert ran


LEAKS = """
import threading, time

import pytest

_stops = []

def _spin(stop):
    while not stop.is_set():
        time.sleep(0.01)

def _thread(name):
    stop = threading.Event()
    _stops.append(stop)
    thread = threading.Thread(target=_spin, args=(stop,), name=name)
    thread.daemon = True
    thread.start()
    return stop, thread

@pytest.fixture
def stopper():
    stops = []
    yield stops
    for stop in stops:
        stop.set()

def test_leaks():
    _thread("spinner")

def test_joins():
    stop, thread = _thread("joined")
    stop.set()
    thread.join()

def test_finishes_within_grace():
    stop, _ = _thread("stopped-not-joined")
    stop.set()

def test_stopped_by_fixture(stopper):
    stopper.append(_thread("fixture-stopped")[0])

def test_zz_cleanup():
    for stop in _stops:
        stop.set()
"""
GREEN_LEAKS = """
import pytest

pytestmark = pytest.mark.eventlet_only

def test_green_leak():
    import eventlet

    def forever():
        while True:
            eventlet.sleep(0.01)

    eventlet.spawn(forever)

def test_green_waited():
    import eventlet

    eventlet.spawn(eventlet.sleep, 0.01).wait()
    eventlet.spawn(eventlet.sleep, 0.01)
"""


@pytest.mark.parametrize("how", ["native-strict", "native", "eventlet-ini"])
def test_leaked_threads_fail_in_strict_mode(
    pytester: pytest.Pytester,
    run: Runner,
    how: str,
) -> None:
    """Strict: a leaked (green)thread fails its test, named; else ignored."""
    pytester.makepyfile(test_leaks=LEAKS, test_green=GREEN_LEAKS)
    site = f"test_leaks.py:{_lineno(LEAKS, 'thread.start()')}"
    if how == "native-strict":
        result = run("--patchguard-strict", "-rs")
        result.assert_outcomes(passed=5, skipped=2, errors=1)
        kind = "native thread"
    elif how == "native":
        result = run()
        result.assert_outcomes(passed=5, skipped=2)
        return
    else:
        pytester.makeini("[pytest]\npatchguard_strict = true\n")
        result = run("--patchguard-mode=eventlet")
        result.assert_outcomes(passed=7, errors=2)
        kind = "greenthread"
        green = _lineno(GREEN_LEAKS, "eventlet.sleep(0.01)")
        result.stdout.fnmatch_lines(
            [
                "patchguard: test_green.py::test_green_leak left 1 thread(s) "
                "running after teardown: greenthread running forever at "
                f"*test_green.py:{green}. Fix: *"
            ]
        )
    result.stdout.fnmatch_lines(
        [
            "patchguard: test_leaks.py::test_leaks left 1 thread(s) running "
            f"after teardown: 'spinner' ({kind}, started at *{site}). Fix: *"
        ]
    )
    result.stdout.no_fnmatch_line("*'joined'*")
    result.stdout.no_fnmatch_line("*stopped-not-joined*")
    result.stdout.no_fnmatch_line("*fixture-stopped*")


@pytest.mark.parametrize("key", ["patchguard_strict", "patchguard_bootstrap"])
def test_ini_switches_are_validated_naming_the_key(
    pytester: pytest.Pytester, run: Runner, key: str
) -> None:
    """A bad ini value stops the session naming the ini key and the
    accepted values (pytest's own bool parser would name neither)."""
    pytester.makeini(f"[pytest]\n{key} = maybe\n")
    pytester.makepyfile("def test_x():\n    pass\n")
    result = run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"ERROR: patchguard: ini {key}='maybe' is not valid; accepted*'on'*"]
    )


@pytest.mark.parametrize("value", ["1", "yes", "off", ""])
def test_ini_switches_accept_the_flag_values(
    pytester: pytest.Pytester, run: Runner, value: str
) -> None:
    """The ini switches take the same values as PATCHGUARD_STRICT."""
    pytester.makeini(f"[pytest]\npatchguard_strict = {value}\n")
    pytester.makepyfile("def test_x():\n    pass\n")
    result = run()
    result.assert_outcomes(passed=1)


PROJECT_DECIDES = """
from oslo_service import backend

# What nova's monkey_patch.py does: the project decides, not patchguard.
backend.init_backend(backend.BackendType.THREADING)


def test_runs():
    open("ran.txt", "w").close()
"""


@pytest.mark.parametrize("expect", ["native", "eventlet"])
def test_expect_accepts_a_project_decision(
    pytester: pytest.Pytester, run: Runner, expect: str
) -> None:
    """A suite whose project selects oslo.service's THREADING backend
    itself is native to --patchguard-expect; expecting eventlet names
    that decision."""
    pytest.importorskip("oslo_service")
    pytester.makepyfile(PROJECT_DECIDES)
    result = run(f"--patchguard-expect={expect}")
    if expect == "native":
        assert result.ret == pytest.ExitCode.OK, result.stderr.str()
        return
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    (line,) = _stderr_lines(result)
    assert line.startswith(
        "ERROR: patchguard: expected eventlet mode, found native "
        "(native, decided by "
    )
    assert "(oslo.service THREADING)" in line
