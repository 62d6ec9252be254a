"""Warnings that help: categories, locations, debuggers, partial patching,
drivers, WSGI hosts, and the replacement for warn_eventlet_not_patched."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

import patchguard
from patchguard import warn
from tests.helpers import ISOLATED, clean_env, line_of, run_isolated

pytestmark = pytest.mark.isolated


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _only(warnings: list[dict], category: str) -> dict:  # type: ignore[type-arg]
    found = [w for w in warnings if w["category"] == category]
    assert len(found) == 1, warnings
    return found[0]


def test_categories_are_runtime_warnings_reexported() -> None:
    """Every category derives from PatchGuardWarning(RuntimeWarning) and is
    importable from patchguard."""
    names = [
        "EarlyThreadWarning",
        "StaleReferenceWarning",
        "LatePatchWarning",
        "PartialPatchWarning",
        "DebuggerWarning",
        "UnpatchedDriverWarning",
        "WSGIHostWarning",
    ]
    for name in names:
        cls = getattr(patchguard, name)
        assert issubclass(cls, patchguard.PatchGuardWarning)
        assert cls is getattr(warn, name)
    assert issubclass(patchguard.PatchGuardWarning, RuntimeWarning)


@pytest.mark.parametrize(
    ("kind", "env", "category"),
    [
        ("early", {}, "EarlyThreadWarning"),
        ("stale", {}, "StaleReferenceWarning"),
        ("late", {"PATCHGUARD_PATCH": "socket,time"}, "LatePatchWarning"),
        (
            "partial",
            {"PATCHGUARD_PATCH": "all,-thread"},
            "PartialPatchWarning",
        ),
        ("debugger", {"PATCHGUARD_MODE": "eventlet"}, "DebuggerWarning"),
        ("driver", {}, "UnpatchedDriverWarning"),
        ("wsgi", {"PATCHGUARD_MODE": "eventlet"}, "WSGIHostWarning"),
        ("fork", {}, "ForkWarning"),
    ],
)
def test_dash_w_error_turns_category_into_exception(
    kind: str, env: dict[str, str], category: str
) -> None:
    """-W error::patchguard.<Category> turns each category into an
    exception; without it the program survives and shows the warning."""
    plain = run_isolated("hazards_plain.py", kind, env=env)
    assert plain.returncode == 0, plain.stderr
    assert "survived" in plain.stdout
    assert f"{category}:" in plain.stderr
    result = run_isolated(
        "hazards_plain.py",
        kind,
        env=env,
        pre_args=("-W", f"error::patchguard.{category}"),
    )
    assert result.returncode == 1
    assert f"patchguard.warn.{category}:" in result.stderr
    assert "survived" not in result.stdout


def test_dash_w_ignore_filters_by_category() -> None:
    """-W ignore::patchguard.PartialPatchWarning silences just that one."""
    result = run_isolated(
        "log_line.py",
        env={"PATCHGUARD_PATCH": "all,-thread"},
        pre_args=("-W", "ignore::patchguard.PartialPatchWarning"),
    )
    assert result.returncode == 0
    assert "PartialPatchWarning" not in result.stderr


def test_warning_location_is_the_users_import_line() -> None:
    """The warning is reported at the user's `import patchguard.bootstrap`
    line, not inside patchguard or importlib."""
    result = run_isolated("clean.py", env={"PATCHGUARD_PATCH": "all,-thread"})
    warning = _only(result.json()["warnings"], "PartialPatchWarning")
    site = line_of("clean.py", "import patchguard.bootstrap")
    assert f"{warning['filename']}:{warning['lineno']}" == site


def test_partial_patch_warns() -> None:
    """thread unpatched while time/socket/select are green: the deadlock
    warning with both fixes."""
    out = run_isolated(
        "clean.py", env={"PATCHGUARD_PATCH": "socket,time"}
    ).json()
    message = _only(out["warnings"], "PartialPatchWarning")["message"]
    assert "socket,time are green" in message
    assert "PATCHGUARD_PATCH=all" in message
    assert "PATCHGUARD_MODE=native" in message


def test_settrace_is_a_debugger_and_selects_native() -> None:
    """A trace function before the bootstrap: auto picks native and says so
    in one stderr line."""
    result = run_isolated("settrace.py")
    out = result.json()
    assert (out["mode"], out["decided_by"], out["debugger"]) == (
        "native",
        "debugger:trace",
        "trace",
    )
    assert out["eventlet_imported"] is False
    assert "set PATCHGUARD_MODE=eventlet to force eventlet" in result.stderr


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"PATCHGUARD_MODE": "eventlet"}, "greenlet.error"),
        (
            {"PATCHGUARD_MODE": "eventlet", "PATCHGUARD_PATCH": "all,-thread"},
            "deadlocks",
        ),
    ],
)
def test_settrace_forced_eventlet_warns(
    env: dict[str, str], needle: str
) -> None:
    """Forcing eventlet (or leaving thread unpatched) under a debugger gives
    DebuggerWarning naming the debugger and the hazard."""
    out = run_isolated("settrace.py", env=env).json()
    message = _only(out["warnings"], "DebuggerWarning")["message"]
    assert "trace debugger" in message
    assert needle in message
    assert "PATCHGUARD_MODE=native" in message


def test_pdb_with_breakpoint_selects_native() -> None:
    """python -m pdb with a breakpoint: detected as pdb, native mode."""
    script = ISOLATED / "debugged_service.py"
    line = int(line_of("debugged_service.py", "done = []").rsplit(":", 1)[1])
    result = run_isolated(
        "debugged_service.py",
        pre_args=("-m", "pdb"),
        stdin=f"b {script}:{line}\nc\nc\n",
        timeout=60,
    )
    out = result.json()
    assert (out["mode"], out["debugger"]) == ("native", "pdb")
    assert out["joined"] is True


@pytest.mark.skipif(
    sys.version_info < (3, 12), reason="sys.monitoring is new in 3.12"
)
def test_sys_monitoring_debugger_detected() -> None:
    """A debugger registered only through sys.monitoring is found."""
    out = run_isolated("monitoring_tool.py").json()
    assert (out["mode"], out["debugger"]) == ("native", "acme-debugger")


def _debugpy(
    env: dict[str, str], timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("debugpy")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "debugpy",
            "--listen",
            f"127.0.0.1:{_free_port()}",
            str(ISOLATED / "debugged_service.py"),
        ],
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_debugpy_auto_is_native_without_errors() -> None:
    """Under a real debugpy listener, auto mode is native: no
    greenlet.error, no hang, the service's thread joins."""
    result = _debugpy({})
    assert result.returncode == 0, result.stderr
    out = [line for line in result.stdout.splitlines() if line.startswith("{")]
    import json

    state = json.loads(out[-1])
    assert (state["mode"], state["decided_by"]) == (
        "native",
        "debugger:debugpy",
    )
    assert state["joined"] is True
    assert "greenlet.error" not in result.stderr


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({}, "greenlet.error"),
        ({"PATCHGUARD_PATCH": "all,-thread"}, "deadlocks"),
    ],
)
def test_debugpy_forced_eventlet_warns(
    extra: dict[str, str], needle: str
) -> None:
    """Forced eventlet (or thread unpatched) under debugpy gives
    DebuggerWarning naming debugpy."""
    try:
        # The hazard may hang the process (it does on 3.13): the warning is
        # printed at the bootstrap, long before this bound.
        result = _debugpy(dict(extra, PATCHGUARD_MODE="eventlet"), 20)
    except subprocess.TimeoutExpired as exc:
        # The hazard itself may hang the process; the warning came first.
        stderr = (
            (exc.stderr or b"").decode()
            if isinstance(exc.stderr, bytes)
            else (exc.stderr or "")
        )
    else:
        stderr = result.stderr
    assert "DebuggerWarning" in stderr
    assert "debugpy debugger" in stderr
    assert needle in stderr


def test_deadlock_program_warned_before_it_hangs() -> None:
    """The spec's deadlock program under `patchguard run` with
    all,-thread: PartialPatchWarning is printed before the hang (bounded
    by the program's own watchdog)."""
    result = run_isolated(
        "-m patchguard",
        "run",
        str(ISOLATED / "deadlock.py"),
        env={"PATCHGUARD_MODE": "eventlet", "PATCHGUARD_PATCH": "all,-thread"},
        timeout=60,
    )
    assert "PartialPatchWarning" in result.stderr
    assert "finished" not in result.stdout
    assert "Timeout" in result.stderr
    assert result.stderr.index("PartialPatchWarning") < result.stderr.index(
        "Timeout"
    )


def test_unpatched_drivers_warn_at_import_line() -> None:
    """MySQLdb imported unpatched after the bootstrap warns at its import
    line; psycopg2 without a green wait callback warns too."""
    out = run_isolated("drivers.py").json()
    warnings = [
        w for w in out["warnings"] if w["category"] == "UnpatchedDriverWarning"
    ]
    by_driver = {w["message"].split()[0]: w for w in warnings}
    mysql = by_driver["MySQLdb"]
    assert f"{mysql['filename']}:{mysql['lineno']}" == line_of(
        "drivers.py", "MARK-mysql"
    )
    assert "PyMySQL" in mysql["message"]
    assert "psycopg2" in by_driver


@pytest.mark.parametrize("host", ["mod_wsgi", "uwsgi"])
def test_wsgi_host_auto_native_and_forced_warns(host: str) -> None:
    """Under a WSGI host auto is native; forcing eventlet warns."""
    auto = run_isolated("detect_host.py", host).json()
    assert (auto["mode"], auto["decided_by"], auto["wsgi_host"]) == (
        "native",
        f"wsgi:{host}",
        host,
    )
    forced = run_isolated(
        "detect_host.py", host, env={"PATCHGUARD_MODE": "eventlet"}
    ).json()
    assert forced["mode"] == "eventlet"
    message = _only(forced["warnings"], "WSGIHostWarning")["message"]
    assert host in message
    assert "starves" in message


def test_pip_mod_wsgi_package_is_not_a_host() -> None:
    """mod_wsgi importable as a pip package does not make a process
    native."""
    out = run_isolated("detect_host.py", "mod_wsgi_pip").json()
    assert (out["mode"], out["wsgi_host"]) == ("eventlet", None)


def test_check_api_has_no_false_positive_after_full_patch() -> None:
    """warn.check/warn_if_unpatched: nothing after a full patch (unlike
    oslo.utils' warn_eventlet_not_patched)."""
    out = run_isolated("warn_check.py").json()
    assert out["check_all"] == []
    assert out["check_default"] == []
    assert out["check_threading"] == []
    assert out["warnings"] == []
    oslo = run_isolated("oslo_compare.py")
    assert "OSLO" in oslo.stdout


def test_check_api_names_missing_patches() -> None:
    """With socket,time only, expecting threading finds 'thread' missing,
    and warn_if_unpatched warns at the caller's line."""
    out = run_isolated(
        "warn_check.py", env={"PATCHGUARD_PATCH": "socket,time"}
    ).json()
    assert out["check_default"] == []
    assert len(out["check_threading"]) == 2
    assert any("'thread'" in m for m in out["check_threading"])
    assert any("'subprocess'" in m for m in out["check_threading"])
    partial = [
        w for w in out["warnings"] if w["category"] == "PartialPatchWarning"
    ]
    assert partial
    assert {f"{w['filename']}:{w['lineno']}" for w in partial} == {
        line_of("warn_check.py", "# MARK")
    }


def test_warning_raised_while_a_watched_module_imports_names_the_importer(
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    """A warning a module raises at import time (eventlet's deprecation
    banner, stacklevel=2) points at the user's ``import`` line even when
    patchguard watches that module's import, never at patchguard's hook."""
    script = tmp_path / "importer.py"
    script.write_text(
        "import patchguard\nimport warnings\n"
        "warnings.simplefilter('always')\n"
        "import eventlet  # the line to blame\n"
    )
    env = clean_env()
    env.pop("EVENTLET_TESTS", None)  # the banner is the warning under test
    proc = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"{script}:4: EventletDeprecationWarning" in proc.stderr
    assert "importhook" not in proc.stderr


@pytest.mark.parametrize("how", ["script", "-m"])
def test_eventlet_banner_names_the_bootstrap_line(
    tmp_path,  # type: ignore[no-untyped-def]
    how: str,
) -> None:
    """eventlet's deprecation banner, when the bootstrap is what imports
    eventlet, points at the user's `import patchguard.bootstrap` line,
    never at importlib or patchguard; -W filters still apply to it, and
    -W error stops the bootstrap before anything is patched."""
    pkg = tmp_path / "svc"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "api.py").write_text(
        "import os\nimport patchguard.bootstrap  # line 2\n"
        "from eventlet import patcher\n"
        "print('PATCHED', patcher.is_monkey_patched('socket'))\n"
    )
    env = clean_env({"PATCHGUARD_MODE": "eventlet"})
    env.pop("EVENTLET_TESTS", None)  # the banner is the warning under test
    target = ["-m", "svc.api"] if how == "-m" else [str(pkg / "api.py")]

    def run(*options: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *options, *target],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    proc = run()
    assert proc.returncode == 0, proc.stderr
    assert "PATCHED True" in proc.stdout
    assert f"{pkg / 'api.py'}:2: EventletDeprecationWarning" in proc.stderr
    assert "importlib" not in proc.stderr
    assert "patchguard/" not in proc.stderr
    quiet = run("-W", "ignore::Warning")
    assert quiet.returncode == 0
    assert "EventletDeprecationWarning" not in quiet.stderr
    strict = run("-W", "error::Warning")
    assert strict.returncode == 1
    assert "PATCHED" not in strict.stdout
    assert (
        "\neventlet.EventletDeprecationWarning: \nEventlet is deprecated."
        in strict.stderr
    ), strict.stderr
