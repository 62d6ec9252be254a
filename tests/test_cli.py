"""The patchguard command as installed: report, run, check, exit codes.

Every case runs the installed console script (``bin/patchguard`` next to
the test interpreter) in a fresh process, as an operator would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ISOLATED, ROOT, Result, clean_env, line_of

OURS = str(ROOT / "patchguard") + os.sep

pytestmark = pytest.mark.isolated
SVC = ISOLATED / "svc"


def _script() -> str:
    script = Path(sys.executable).with_name("patchguard")
    if script.exists():
        return str(script)
    found = shutil.which("patchguard")
    if found is None:
        pytest.skip("patchguard is not installed as a console script here")
    return found


def cli(*args: str, timeout: float = 90, **env: str) -> Result:
    """Run the installed ``patchguard ARGS`` in ``tests/isolated/svc``."""
    proc = subprocess.run(
        [_script(), *args],
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=SVC,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def one_json(result: Result) -> dict:  # type: ignore[type-arg]
    """Parse stdout as exactly one JSON document (nothing else)."""
    doc = json.loads(result.stdout)
    assert isinstance(doc, dict), result.stdout
    return doc


def test_report_human_and_json() -> None:
    """report prints the table, or the to_dict() JSON; exit 0."""
    human = cli("report", PATCHGUARD_MODE="native")
    assert human.returncode == 0, human.stderr
    assert "mode        native" in human.stdout
    assert "decided_by  PATCHGUARD_MODE" in human.stdout
    data = cli("report", "--json", PATCHGUARD_PATCH="socket,time")
    assert data.returncode == 0
    state = one_json(data)
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
        (
            ("check", "no_decision.py"),
            {"PATCHGUARD_MODE": "bogus"},
            "PATCHGUARD_MODE='bogus'",
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
    ("args", "env", "key", "name", "value", "accepted"),
    [
        (
            ("check", "--json", "good_entry.py"),
            {"PATCHGUARD_MODE": "bogus"},
            "variable",
            "PATCHGUARD_MODE",
            "bogus",
            "native",
        ),
        (
            ("check", "--json", "bad_apply.py"),
            {},
            "argument",
            "mode",
            "purple",
            "eventlet",
        ),
        (
            ("check", "--json", "--timeout", "soon", "good_entry.py"),
            {},
            "argument",
            "--timeout",
            "soon",
            "a number of seconds greater than 0",
        ),
        (
            ("check", "--json", "missing.py"),
            {},
            "argument",
            "TARGET",
            "missing.py",
            "-m MODULE",
        ),
        (
            ("check", "--json", "--frob", "good_entry.py"),
            {},
            "argument",
            "--frob",
            None,
            None,
        ),
        (
            ("report", "--json"),
            {"PATCHGUARD_PATCH": "sock"},
            "variable",
            "PATCHGUARD_PATCH",
            "sock",
            "socket",
        ),
    ],
)
def test_json_errors_are_one_document(
    args: tuple[str, ...],
    env: dict[str, str],
    key: str,
    name: str,
    value: str | None,
    accepted: str | None,
) -> None:
    """--json usage/config errors: exit 2 and stdout is exactly one JSON
    document naming the variable or argument, value and accepted."""
    result = cli(*args, **env)
    assert result.returncode == 2, result.stderr
    doc = one_json(result)
    assert doc["status"] == 2
    assert doc[key] == name
    assert (value or name) in doc["error"]
    assert doc["value"] == value
    if accepted is not None:
        assert accepted in doc["accepted"]


def test_check_json_stdout_is_only_the_report() -> None:
    """The target's prints and logging go to stderr; stdout holds the one
    JSON report."""
    result = cli("check", "--json", "noisy.py")
    report = one_json(result)
    assert report["status"] == result.returncode
    for needle in ("NOISE-PRINT", "NOISE-WRITE", "NOISE-LOG"):
        assert needle in result.stderr
        assert needle not in result.stdout


@pytest.mark.parametrize(
    ("how", "needle", "marker"),
    [
        ("os_exit", "called os._exit(3)", "os._exit(3)"),
        ("sys_exit", "called sys.exit(4)", "sys.exit(4)"),
        ("keyboard", "KeyboardInterrupt (a BaseException)", "KeyboardInt"),
        ("base", "Stop (a BaseException): stop here", 'Stop("stop here")'),
        ("raise", "RuntimeError: db unreachable", "db unreachable"),
        ("thread", "non-daemon thread(s) running: 'poller'", ").start()"),
    ],
)
def test_check_survives_whatever_the_import_does(
    how: str, needle: str, marker: str
) -> None:
    """Exits, BaseExceptions and non-daemon threads at import become a
    finding at the target's line; check exits 1, never the target's
    status, and never hangs."""
    start = time.monotonic()
    result = cli("check", "--json", "ends.py", how, timeout=30)
    assert time.monotonic() - start < 25
    assert result.returncode == 1, result.stderr
    report = one_json(result)
    assert report["status"] == 1
    found = [f for f in report["findings"] if needle in f["message"]]
    assert found, report["findings"]
    assert found[0]["location"] == line_of("svc/ends.py", marker).replace(
        str(SVC) + "/", ""
    )


@pytest.mark.parametrize("how", ["hang_native", "hang_green"])
def test_check_timeout_reports_where_the_import_blocked(how: str) -> None:
    """An import hanging past --timeout (native or on eventlet's hub) is
    stopped and reported at the line it blocked on; exit 1."""
    # Long enough for eventlet's import and patch on a loaded machine: the
    # stop must find the import in its sleep.
    start = time.monotonic()
    result = cli("check", "--timeout", "5", "ends.py", how, timeout=60)
    assert time.monotonic() - start < 40
    assert result.returncode == 1, result.stderr
    assert "did not finish within 5 s (--timeout)" in result.stdout
    site = line_of("svc/ends.py", f"# {how.replace('_', '-')}")
    assert f"blocked at {site.replace(str(SVC) + '/', '')}" in result.stdout


def test_check_reports_a_child_that_died_without_a_word() -> None:
    """A target that kills its own process still gets a report (exit 1)."""
    result = cli("check", "--json", "ends.py", "kill")
    assert result.returncode == 1
    report = one_json(result)
    assert report["state"] is None
    assert "killed by signal 9" in report["findings"][0]["message"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("check", "missing.py"), "missing.py: no such file"),
        (("check", "-m", "no_such_module"), "no module named"),
        (("check", ""), "empty target"),
        (("check", "no_main_dir"), "no_main_dir: no __main__.py"),
        (("check", "-m", "no_main_pkg"), "without a __main__ module"),
        (("check", "no-such-console-script"), "no-such-console-script"),
        (("check", "cmd_main:nope"), "has no 'nope'"),
        (("run", "missing.py"), "missing.py: no such file"),
        (("run", "-m", "no_such_module"), "no module named"),
        (("run", ""), "empty target"),
        (("run", "no_main_dir"), "no_main_dir: no __main__.py"),
        (("run", "-m", "no_main_pkg"), "without a __main__ module"),
        (("run", "cmd_main"), "use -m cmd_main"),
        (("run", "cmd_main:nope"), "has no 'nope'"),
    ],
)
def test_missing_target_is_one_line_exit_2(
    args: tuple[str, ...], needle: str
) -> None:
    """A target that cannot be found: one line naming it, exit 2, no
    traceback."""
    result = cli(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0]
    assert "Traceback" not in result.stderr


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


@pytest.mark.parametrize("verb", ["report", "run", "check"])
def test_verb_help_and_version(verb: str) -> None:
    """``VERB --help`` prints the usage and exits 0 (a help flag after
    the target stays the target's); ``--version`` names the version."""
    result = cli(verb, "--help")
    assert result.returncode == 0, result.stderr
    assert "patchguard run" in result.stdout
    version = cli("--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("patchguard ")


def test_run_watch_bad_variable_is_one_line() -> None:
    """``run --watch`` checks the variables like every other verb: one
    line naming the variable, exit 2, no traceback."""
    result = cli(
        "run", "--watch", "exit_status.py", "0", PATCHGUARD_MODE="green"
    )
    assert result.returncode == 2, result.stderr
    assert "PATCHGUARD_MODE='green' is not valid" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_target_that_bootstraps_itself_keeps_runs_decision() -> None:
    """A target whose first line is ``import patchguard.bootstrap`` (no
    opinion of its own) runs under ``run`` in run's mode instead of failing
    with "already decided"; an explicit mode still wins over both."""
    result = cli("run", "bootstrapped_main.py")
    assert result.returncode == 0, result.stderr
    assert "MODE native entry-point default" in result.stdout
    green = cli("run", "--mode", "eventlet", "bootstrapped_main.py")
    assert green.returncode == 0, green.stderr
    assert "MODE eventlet" in green.stdout
    env = cli("run", "bootstrapped_main.py", PATCHGUARD_MODE="eventlet")
    assert env.returncode == 0, env.stderr
    assert "MODE eventlet PATCHGUARD_MODE" in env.stdout


def test_run_module_with_mode() -> None:
    """run --mode native -m MODULE runs the module natively."""
    result = cli("run", "--mode", "native", "-m", "exit_status", "0")
    assert result.returncode == 0, result.stderr
    assert "MODE native ['0']" in result.stdout


@pytest.mark.parametrize("mode", ["native", "NATIVE"])
def test_run_native_with_patch_is_a_usage_error(mode: str) -> None:
    """--mode native patches nothing: a --patch beside it is refused (exit
    2, naming both), never silently dropped; nothing runs."""
    result = cli(
        "run", "--mode", mode, "--patch", "socket", "-m", "exit_status", "0"
    )
    assert result.returncode == 2, result.stderr
    assert "MODE" not in result.stdout
    assert result.stderr.startswith(
        "patchguard: --patch chooses what eventlet patches; --mode native "
        "patches nothing: drop --patch, or use --mode eventlet\n"
    )
    eventlet = cli(
        "run",
        "--mode",
        "eventlet",
        "--patch",
        "socket,thread",
        "-m",
        "exit_status",
        "0",
    )
    assert eventlet.returncode == 0, eventlet.stderr


def test_run_cmd_module_without_main_block_runs_main() -> None:
    """-m of a module with main() and no __main__ block runs main() as its
    console script would: its return value is the exit status."""
    result = cli("run", "--mode", "native", "-m", "cmd_main", "a", "b")
    assert result.returncode == 3, result.stderr
    assert "MAIN RAN native ['a', 'b']" in result.stdout


def test_run_module_function_form() -> None:
    """run MODULE:FUNCTION imports the module and calls the function."""
    result = cli("run", "cmd_main:other")
    assert result.returncode == 0, result.stderr
    assert "OTHER RAN cmd_main:other" in result.stdout


def _imported(stderr: str, module: str) -> bool:
    pattern = re.compile(rf"\|\s*{re.escape(module)}(\.|$)", re.M)
    return bool(pattern.search(stderr))


@pytest.mark.parametrize(
    "target", [("-m", "oslo_config.generator"), ("oslo-config-generator",)]
)
def test_run_auto_detection_sees_the_target(target: tuple[str, ...]) -> None:
    """run -m oslo_config.generator (or its console script) is a config
    tool: auto detection runs it native, so eventlet is never imported."""
    result = cli("run", *target, "--help", PYTHONPROFILEIMPORTTIME="1")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "[--config-dir DIR]" in result.stdout
    assert _imported(result.stderr, "patchguard")
    assert not _imported(result.stderr, "eventlet")


def test_check_console_script_imports_without_running_main() -> None:
    """check CONSOLE_SCRIPT imports the entry point's module, never calls
    main(), and says which function the script runs."""
    result = cli("check", "--json", "oslo-config-generator")
    report = one_json(result)
    assert report["target"] == (
        "oslo-config-generator (oslo_config.generator:main)"
    )
    assert report["status"] == result.returncode
    assert "usage:" not in result.stderr


def test_check_cmd_module_does_not_run_main() -> None:
    """check -m of a cmd module and check MODULE:FUNCTION import it
    without calling main()."""
    for target in (("-m", "cmd_main"), ("cmd_main:main",)):
        result = cli("check", "--json", *target)
        one_json(result)
        assert "MAIN RAN" not in result.stdout + result.stderr


def test_run_traceback_shows_only_the_target() -> None:
    """A target's own exception: Python's traceback without patchguard's
    or runpy's frames; exit 1."""
    result = cli("run", "fails.py")
    assert result.returncode == 1
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert 'File "fails.py", line 8, in <module>' in result.stderr
    assert "ValueError: no database at db.example:3306" in result.stderr
    assert OURS not in result.stderr
    assert "runpy" not in result.stderr


def test_run_refused_patch_names_the_users_line() -> None:
    """A target patching in native mode: PatchOrderError's traceback ends
    at the target's call, with no patchguard frame."""
    result = cli("run", "--mode", "native", "late_native.py")
    assert result.returncode == 1
    assert 'File "late_native.py", line 5, in <module>' in result.stderr
    assert "PatchOrderError" in result.stderr
    assert OURS not in result.stderr


def test_check_clean_entry_point_exits_0() -> None:
    """check on a bootstrap-first entry point: clean, exit 0, and its
    main() is not run."""
    result = cli("check", "--json", "good_entry.py")
    assert result.returncode == 0, result.stdout + result.stderr
    report = one_json(result)
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
    report = one_json(result)
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
    # The chain starts at the target: check's own `python -c` launcher is
    # not the user's code.
    assert (
        "eventlet    imported by eventlet_undecided.py:3 -> eventlet\n"
        in result.stdout
    ), result.stdout


def test_check_strict_refusal_is_the_bootstraps_error() -> None:
    """A bootstrap that PATCHGUARD_STRICT made refuse is reported as the
    PatchOrderError it raised, at its line, with the decision "refused";
    the variables it read are not listed as ignored."""
    env = {"PATCHGUARD_MODE": "eventlet", "PATCHGUARD_STRICT": "1"}
    site = line_of("svc/strict_early.py", "BOOTSTRAP-LINE")
    line = site.rsplit(":", 1)[1]
    result = cli("check", "strict_early.py", **env)
    assert result.returncode == 1, result.stdout
    assert (
        f"decision    the bootstrap at strict_early.py:{line} refused to "
        f"patch (PATCHGUARD_STRICT): nothing was patched\n" in result.stdout
    ), result.stdout
    assert f"  PatchOrderError [strict_early.py:{line}]\n" in result.stdout
    assert "PatchGuardWarning" not in result.stdout
    assert "ignored " not in result.stdout
    data = one_json(cli("check", "--json", "strict_early.py", **env))
    assert data["decision"]["kind"] == "refused"
    assert data["ignored_variables"] == []
    [refusal] = data["findings"]
    assert refusal["category"] == "PatchOrderError"
    assert refusal["message"].startswith(
        "PATCHGUARD_STRICT: refusing to patch. 1 thread(s) already running"
    )


def test_check_never_imports_eventlet_is_native() -> None:
    """A script that never imports eventlet is a native process: check
    says so and exits 0, in text and JSON."""
    result = cli("check", "no_decision.py")
    assert result.returncode == 0, result.stdout
    assert "decision    mode native (eventlet never imported)" in result.stdout
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


def test_check_names_variables_without_effect() -> None:
    """check says which PATCHGUARD_* variables the target never read:
    no bootstrap, a typo, or a mode overridden in code."""
    result = cli(
        "check",
        "--json",
        "no_decision.py",
        PATCHGUARD_MODE="native",
        PATCHGUARD_MDOE="native",
    )
    ignored = {
        i["variable"]: i["reason"]
        for i in one_json(result)["ignored_variables"]
    }
    assert "never bootstrapped" in ignored["PATCHGUARD_MODE"]
    assert "no variable of that name" in ignored["PATCHGUARD_MDOE"]
    human = cli("check", "good_entry.py", PATCHGUARD_MODE="native")
    assert "ignored" not in human.stdout
    assert human.returncode == 0, human.stdout


def _closed_pipe(*args: str) -> tuple[int, str]:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [_script(), *args],
            env=clean_env(),
            stdout=write_end,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=90,
            cwd=SVC,
            check=False,
        )
    finally:
        os.close(write_end)
    return proc.returncode, proc.stderr


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (("report", "--json"), 0),
        (("report",), 0),
        (("check", "--json", "good_entry.py"), 0),
        (("check", "legacy_entry.py"), 1),
        (("check", "--json", "missing.py"), 2),
        (("--help",), 0),
        (("run", "broken_pipe_target.py"), 1),
    ],
)
def test_closed_pipe_exits_quietly(args: tuple[str, ...], status: int) -> None:
    """Writing to a closed pipe (| head -1) prints no BrokenPipeError and
    keeps the verb's own status."""
    returncode, stderr = _closed_pipe(*args)
    assert "BrokenPipe" not in stderr
    # (The target's own thread noise may reach stderr; stdout's may not.)
    assert "Exception ignored in: <_io" not in stderr
    assert returncode == status, stderr


def test_python_dash_m_patchguard_is_the_same_cli() -> None:
    """python -m patchguard runs the same CLI (exit status included)."""
    proc = subprocess.run(
        [sys.executable, "-m", "patchguard", "check", "--json", "nope.py"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=SVC,
        check=False,
    )
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["argument"] == "TARGET"


def test_check_leaves_no_process_behind() -> None:
    """A hanging target and the process it started are killed with their
    process group when check is done."""
    result = cli("check", "--json", "--timeout", "1", "ends.py", "spawn")
    assert result.returncode == 1
    pids = [
        int(line.split()[1])
        for line in result.stderr.splitlines()
        if line.startswith(("PID ", "CHILD "))
    ]
    assert len(pids) == 2, result.stderr
    assert [pid for pid in pids if _alive(pid)] == []


def _alive(pid: int) -> bool:
    # A killed orphan may wait as a zombie until init reaps it: dead.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


@pytest.mark.parametrize("verb", ["check", "run"])
def test_script_directory_is_sys_path_0(verb: str) -> None:
    """A script elsewhere imports its siblings (sys.path[0] is its
    directory, as under python SCRIPT), in check's child and under run."""
    result = cli(verb, "elsewhere/entry.py")
    assert "ENTRY RAN" in result.stdout + result.stderr
    assert "ModuleNotFoundError" not in result.stdout + result.stderr
    assert "failed" not in result.stdout
    assert result.returncode in ((0, 1) if verb == "check" else (0,))


def test_config_error_carries_its_fields_through_pickle() -> None:
    """ConfigError's variable, value and accepted survive pickling; its
    str() is the message alone."""
    import pickle

    from patchguard import ConfigError
    from patchguard._decision.policy import parse_mode

    with pytest.raises(ConfigError) as caught:
        parse_mode("PATCHGUARD_MODE", "bogus")
    error = pickle.loads(pickle.dumps(caught.value))  # noqa: S301
    assert str(error) == str(caught.value)
    assert error.args == (str(caught.value),)
    assert (error.name, error.value) == ("PATCHGUARD_MODE", "bogus")
    assert error.accepted == ("auto", "eventlet", "native")


def test_run_keyboard_interrupt_ends_as_python_does() -> None:
    """A KeyboardInterrupt escaping the target: its traceback without our
    frames, then death by SIGINT, as `python SCRIPT` ends."""
    result = cli("run", "ends.py", "keyboard")
    assert result.returncode == -2, result.stderr
    assert 'File "ends.py"' in result.stderr
    assert result.stderr.rstrip().endswith("KeyboardInterrupt")
    assert OURS not in result.stderr


def test_run_base_exception_is_the_targets_traceback() -> None:
    """Any other BaseException escaping the target: its traceback, exit 1."""
    result = cli("run", "ends.py", "base")
    assert result.returncode == 1
    assert "Stop: stop here" in result.stderr
    assert OURS not in result.stderr


def test_check_interrupted_by_the_operator_leaves_nothing() -> None:
    """Ctrl-C on check while the import hangs: one line, status 130, and
    the target's process group is gone."""
    proc = subprocess.Popen(
        [_script(), "check", "ends.py", "spawn"],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=SVC,
    )
    assert proc.stderr is not None
    pids = []
    while len(pids) < 2:
        line = proc.stderr.readline()
        assert line, "check ended before its target started"
        if line.startswith(("PID ", "CHILD ")):
            pids.append(int(line.split()[1]))
    proc.send_signal(2)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert stderr.strip() == "patchguard: interrupted"
    assert [pid for pid in pids if _alive(pid)] == []


@pytest.mark.parametrize(
    ("target", "tool"),
    [
        (("-m", "flake8"), "flake8"),
        (("oslopolicy-checker.py",), "oslopolicy-checker"),
    ],
)
def test_run_decision_names_the_targets_tool(
    target: tuple[str, ...], tool: str
) -> None:
    """Auto detection decides on the target, not on patchguard: the
    decision is made by the tool detector (decided_by=tool:NAME)."""
    result = cli("run", *target)
    assert result.returncode == 0, result.stderr
    assert f"DECIDED tool:{tool}" in result.stdout
