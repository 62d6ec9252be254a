"""The patchguard command: report, run, check and their exit codes."""

from __future__ import annotations

import json

import pytest

from tests.helpers import ISOLATED, line_of, run_isolated

pytestmark = pytest.mark.isolated
SVC = ISOLATED / "svc"


def cli(*args: str, **env: str):  # type: ignore[no-untyped-def]
    """Run ``python -m patchguard ARGS`` in a fresh interpreter."""
    return run_isolated("-m patchguard", *args, env=env, cwd=SVC)


def test_report_human_and_json() -> None:
    """report prints the table, or the to_dict() JSON; exit 0."""
    human = cli("report", PATCHGUARD_MODE="native")
    assert human.returncode == 0, human.stderr
    assert "mode        native" in human.stdout
    assert "decided_by  PATCHGUARD_MODE" in human.stdout
    data = cli("report", "--json", PATCHGUARD_PATCH="socket,time")
    assert data.returncode == 0
    state = json.loads(data.stdout)
    assert state["mode"] == "eventlet"
    assert state["patched"] == ["socket", "time"]
    assert state["modules"]["threading"] == "native"


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (
            ("report",),
            {"PATCHGUARD_MODE": "purple"},
            "PATCHGUARD_MODE='purple'",
        ),
        (("report",), {"PATCHGUARD_PATCH": "sock"}, "PATCHGUARD_PATCH='sock'"),
        (
            ("run", "--mode", "blue", "exit_status.py", "0"),
            {},
            "--mode='blue'",
        ),
        (("run", "--patch", "x", "exit_status.py", "0"), {}, "--patch='x'"),
        (
            ("check", "good_entry.py"),
            {"DISABLE_EVENTLET_PATCHING": "2"},
            "DISABLE_EVENTLET_PATCHING='2'",
        ),
    ],
)
def test_config_errors_exit_2_with_message(
    args: tuple[str, ...], env: dict[str, str], needle: str
) -> None:
    """Bad configuration: exit 2 and the message names variable and
    value; nothing runs."""
    result = cli(*args, **env)
    assert result.returncode == 2
    assert needle in result.stderr
    assert "accepted" in result.stderr
    assert "MODE eventlet" not in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("frobnicate",),
        ("report", "--xml"),
        ("run",),
        ("check", "-m"),
        ("run", "--bogus", "x.py"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    """Usage errors exit 2 with the usage text."""
    result = cli(*args)
    assert result.returncode == 2
    assert "usage: patchguard" in (result.stderr + result.stdout)


def test_run_script_bootstraps_first_and_keeps_exit_status() -> None:
    """run bootstraps (native unless asked for eventlet), runs the script
    as __main__ with its args, and exits with the script's status."""
    result = cli("run", "exit_status.py", "7")
    assert result.returncode == 7
    assert "MODE native ['7']" in result.stdout
    green = cli("run", "--mode", "eventlet", "exit_status.py", "7")
    assert "MODE eventlet ['7']" in green.stdout


def test_run_module_with_mode() -> None:
    """run --mode native -m MODULE runs the module natively."""
    result = cli("run", "--mode", "native", "-m", "exit_status", "0")
    assert result.returncode == 0, result.stderr
    assert "MODE native ['0']" in result.stdout


def test_check_clean_entry_point_exits_0() -> None:
    """check on a bootstrap-first entry point: clean, exit 0, and its
    main() is not run."""
    result = cli("check", "--json", "good_entry.py")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["decision"]["kind"] == "bootstrap"
    # A relative script path stays relative, as in Python's tracebacks.
    assert line_of(
        "svc/good_entry.py", "import patchguard.bootstrap"
    ).endswith("/" + report["decision"]["site"])
    assert report["findings"] == []
    assert report["status"] == 0


def test_check_legacy_entry_point_lists_hazards() -> None:
    """check on a bare monkey_patch entry point: exit 1; the JSON names
    the bare call, the early thread and the stale reference, each with
    category, message and location."""
    result = cli("check", "--json", "-m", "legacy_entry")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["decision"]["kind"] == "monkey_patch"
    assert report["decision"]["site"] == line_of(
        "svc/legacy_entry.py", "eventlet.monkey_patch()"
    )
    categories = {f["category"] for f in report["findings"]}
    assert {
        "LatePatchWarning",
        "EarlyThreadWarning",
        "StaleReferenceWarning",
    } <= categories
    for finding in report["findings"]:
        assert set(finding) == {"category", "message", "location"}
    text = " ".join(f["message"] for f in report["findings"])
    assert "'amqp-heartbeat'" in text
    assert "legacy_entry.sleep -> time.sleep" in text


def test_check_no_decision_is_a_hazard() -> None:
    """An entry point that imports eventlet but never decides is reported
    (exit 1)."""
    result = cli("check", "eventlet_undecided.py")
    assert result.returncode == 1
    assert "never decides how it is patched" in result.stdout
    assert "decision    no patching decision" in result.stdout


def test_check_never_imports_eventlet_is_native() -> None:
    """A script that never imports eventlet is a native process: check
    says so and exits 0, in text and JSON."""
    result = cli("check", "no_decision.py")
    assert result.returncode == 0, result.stdout
    assert (
        "decision    mode native (eventlet never imported)" in result.stdout
    )
    data = cli("check", "--json", "no_decision.py")
    assert data.returncode == 0
    report = json.loads(data.stdout)
    assert report["decision"]["kind"] == "native"
    assert report["findings"] == []


def test_check_human_report() -> None:
    """The human check report shows the decision and a result line."""
    result = cli("check", "legacy_entry.py")
    assert result.returncode == 1
    assert "decision    a bare eventlet.monkey_patch() at" in result.stdout
    assert "EarlyThreadWarning" in result.stdout
    assert "hazard(s)" in result.stdout.splitlines()[-1]


def test_console_script_is_installed() -> None:
    """The `patchguard` console script runs the same CLI."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("patchguard")
    if not script.exists():
        found = shutil.which("patchguard")
        if found is None:
            pytest.skip("patchguard is not installed as a console script here")
        script = Path(found)
    from tests.helpers import clean_env

    result = subprocess.run(
        [str(script), "report", "--json"],
        env=clean_env({"PATCHGUARD_MODE": "native"}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["mode"] == "native"
