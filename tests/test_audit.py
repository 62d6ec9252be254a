"""One audit on every surface (issue 10 §1, §3, §4): bare monkey_patch
audited like the bootstrap, culprits at the user's line, detectors that see
what blocks — each scenario in a fresh interpreter."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from tests.helpers import ISOLATED, ROOT, line_of, run_isolated

pytestmark = pytest.mark.isolated
SVC = ISOLATED / "svc"


def _run(script: str, **env: str) -> dict:  # type: ignore[type-arg]
    result = run_isolated(script, env=env)
    assert result.returncode == 0, result.stderr
    return result.json()  # type: ignore[no-any-return]


def _check(*target: str, **env: str) -> dict:  # type: ignore[type-arg]
    result = run_isolated(
        "-m patchguard", "check", "--json", *target, env=env, cwd=SVC
    )
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == result.returncode
    return report  # type: ignore[no-any-return]


def _categories(items: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return sorted(i["category"] for i in items)


def test_bare_monkey_patch_is_audited_like_the_bootstrap() -> None:
    """A bare monkey_patch(thread=False) gets early-thread, stale-reference
    and partial-patch findings: warned at its line at run time and the
    same list in state().findings."""
    out = _run("bare_audit.py")
    site = line_of("bare_audit.py", "MARK-bare")
    expected = [
        "EarlyThreadWarning",
        "PartialPatchWarning",
        "StaleReferenceWarning",
    ]
    assert _categories(out["findings"]) == expected
    assert _categories(out["warnings"]) == expected
    for finding in out["findings"]:
        assert finding["location"] == site
    for warning in out["warnings"]:
        assert f"{warning['filename']}:{warning['lineno']}" == site
    assert out["mode"] == "unset"
    assert out["decided_by"] == "eventlet.monkey_patch"
    assert out["site"] == site
    assert [t["name"] for t in out["early_threads"]] == ["early"]
    assert [r["attr"] for r in out["stale_refs"]] == ["sleep"]


def test_check_bare_partial_patch_reports_the_deadlock() -> None:
    """check on `eventlet.monkey_patch(thread=False)` reports the partial
    patch (the deadlock), not only the patch outside patchguard."""
    report = _check("partial_entry.py")
    assert report["status"] == 1
    partial = [
        f for f in report["findings"] if f["category"] == "PartialPatchWarning"
    ]
    assert len(partial) == 1, report["findings"]
    assert "deadlocks the process" in partial[0]["message"]
    assert partial[0]["location"].endswith("partial_entry.py:5")
    # The same list is the state's, as every surface reads it.
    assert "PartialPatchWarning" in _categories(report["state"]["findings"])
    # check's own migration finding says what is lost, truthfully: the
    # bare call is audited (above), but no operator switch is read.
    [late] = [
        f for f in report["findings"] if f["category"] == "LatePatchWarning"
    ]
    assert "switches are never read" in late["message"]
    assert "no audit" not in late["message"]
    assert late["message"].endswith(
        "Fix: replace it with `import patchguard.bootstrap` as the entry "
        "point's first import."
    )


def test_green_primitives_without_patching_are_a_finding() -> None:
    """eventlet.green names bound with nothing patched: a finding naming
    each binding, what stays blocking, and the fix."""
    report = _check("-m", "green_only")
    assert report["status"] == 1
    [finding] = [
        f for f in report["findings"] if f["category"] == "PartialPatchWarning"
    ]
    message = finding["message"]
    assert "green_only.socket -> eventlet.green.socket" in message
    assert "green_only.sleep -> eventlet.green.time.sleep" in message
    assert "stay blocking" in message
    assert "Fix:" in message


def test_multiprocessing_objects_made_after_patching_are_reported() -> None:
    """A multiprocessing.Queue made after the bootstrap is named where it
    is bound; threading.Event and queue.Queue are not."""
    report = _check("-m", "mp_after")
    assert report["status"] == 1
    text = " ".join(f["message"] for f in report["findings"])
    assert "mp_after.RESULTS -> instance of multiprocessing" in text
    assert "SemLock" in text
    assert "Fix:" in text
    assert "READY" not in text
    assert "JOBS" not in text


def test_prepatch_stale_natives_where_real_code_keeps_them() -> None:
    """Containers, class attributes, defaults, decorator
    closures, a library object's attributes, a pre-patch threading.local
    and multiprocessing lock are stale; a
    never-replaced name, threading.Event and queue.Queue are not; a module
    under two names is reported once."""
    out = _run("stale_places.py")
    got = {(r["module"], r["attr"]): r["original"] for r in out["stale_refs"]}
    assert got == {
        ("stale_lib", "LOCKS['db']"): "instance of _thread.lock",
        ("stale_lib", "LOCKS['nested']['cache']"): "instance of _thread.lock",
        ("stale_lib", "HANDLERS[0]"): "time.sleep",
        ("stale_lib", "STORE"): "instance of _thread._local",
        ("stale_lib", "Registry.lock"): "instance of _thread.lock",
        ("stale_lib", "connect.<closure _time_sleep>"): "time.sleep",
        ("stale_lib", "backoff(sleep=)"): "time.sleep",
        ("stale_lib", "POLICY._sleep"): "time.sleep",
        ("__main__", "MP_LOCK"): (
            "instance of multiprocessing.synchronize.Lock "
            "(multiprocessing.SemLock)"
        ),
    }
    assert _categories(out["warnings"]) == ["StaleReferenceWarning"] * 2


def test_modules_judged_through_a_library_wrapper() -> None:
    """A library wrapping the patched time.sleep in place (os_brick.utils
    style) leaves state().modules saying time is green."""
    out = _run("wrapped_sleep.py")
    assert out["modules"]["time"] == "green"
    assert "time" in out["patched"]


@pytest.mark.parametrize(
    ("env", "dns", "hub"),
    [
        ({}, "green", "eventlet.hubs.epolls"),
        ({"EVENTLET_NO_GREENDNS": "yes"}, "system", "eventlet.hubs.epolls"),
        ({"EVENTLET_HUB": "poll"}, "green", "eventlet.hubs.poll"),
    ],
)
def test_state_says_resolver_and_hub(
    env: dict[str, str], dns: str, hub: str
) -> None:
    """state() reports the DNS resolver and the hub in effect."""
    out = _run("dns_hub.py", **env)
    assert (out["dns"], out["hub"]) == (dns, hub)
    assert out["hub_before_start"] == hub


@pytest.mark.parametrize("value", ["bogus", "nosuchpkg.hub:Hub", "kqueue"])
def test_invalid_eventlet_hub_is_a_config_error(value: str) -> None:
    """An invalid EVENTLET_HUB exits 2 naming it, before any patching."""
    result = run_isolated(
        "-m patchguard", "report", env={"EVENTLET_HUB": value}, cwd=SVC
    )
    assert result.returncode == 2
    assert f"EVENTLET_HUB={value!r} is not valid" in result.stderr
    assert "'epolls'" in result.stderr
    assert result.stdout == ""


def test_thread_without_python_is_information_not_hazard() -> None:
    """faulthandler's watchdog before the bootstrap: listed as
    information, no EarlyThreadWarning, and strict mode still patches."""
    out = _run("foreign_thread.py", PATCHGUARD_STRICT="1")
    assert out["mode"] == "eventlet"
    assert out["early_threads"] == []
    assert out["findings"] == []
    assert out["warnings"] == []
    assert [t["count"] for t in out["foreign_threads"]] == [1]
    assert "without Python frames" in out["texts"][0]


def test_start_and_fork_sites_name_user_and_library_frames() -> None:
    """A thread a library started, and a fork it made, name the user's line
    and the library's: `app.py:7 (via fakepool/__init__.py:17)`."""
    out = _run("via_library.py")
    lib = "libs/site-packages/fakepool/__init__.py"
    start = (
        line_of("via_library.py", "MARK-user-start")
        + " (via fakepool/__init__.py:"
        + line_of(lib, "MARK-lib-start").rsplit(":", 1)[1]
        + ")"
    )
    [bird] = out["early_threads"]
    assert bird["started_at"] == start
    [fork] = [w for w in out["warnings"] if w["category"] == "ForkWarning"]
    fork_site = (
        line_of("via_library.py", "MARK-user-fork")
        + " (via fakepool/__init__.py:"
        + line_of(lib, "MARK-lib-fork").rsplit(":", 1)[1]
        + ")"
    )
    assert f"fork() called at {fork_site}" in fork["message"]
    assert f"{fork['filename']}:{fork['lineno']}" == line_of(
        "via_library.py", "MARK-user-fork"
    )


def test_records_print_readably() -> None:
    """str() and repr() of every record in PatchState name what it is,
    never `<... object at 0x...>`."""
    out = _run("records_repr.py")
    texts = out["texts"]
    for name in ("early_threads", "stale_refs", "late_patches", "findings"):
        assert texts[name], name
    for items in texts.values():
        for text, rep in items:
            assert " object at 0x" not in text + rep
            assert text in rep
    assert texts["stale_refs"][0][0] == "__main__.sleep -> time.sleep"
    assert texts["late_patches"][1][0] == (
        "eventlet.monkey_patch(thread=False) at "
        + line_of("records_repr.py", "MARK-undo")
    )
    assert "findings=" in out["state_repr"]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_no_import_cycle_between_eventlet_hook_and_late_detector() -> None:
    """_hooks/eventlet imports _detectors/late, never the reverse (not even
    for type checking)."""
    package = ROOT / "patchguard"
    late = _imports(package / "_detectors" / "late.py")
    hook = _imports(package / "_hooks" / "eventlet.py")
    assert "patchguard._detectors.late" in hook
    assert not any(name.startswith("patchguard._hooks") for name in late)


@pytest.mark.parametrize("debugger", [False, True])
def test_bare_monkey_patch_gets_advice_findings(debugger: bool) -> None:
    """A bare monkey_patch() is followed by the bootstrap's advice: an
    unpatched DB driver at its import line, a debugger at the call."""
    args = ("debugger",) if debugger else ()
    result = run_isolated("bare_advice.py", *args)
    assert result.returncode == 0, result.stderr
    out = result.json()
    driver = [
        w
        for w in out["warnings"]
        if w["category"] == "UnpatchedDriverWarning"
        and w["message"].startswith("MySQLdb")
    ]
    assert len(driver) == 1, out["warnings"]
    assert f"{driver[0]['filename']}:{driver[0]['lineno']}" == line_of(
        "bare_advice.py", "MARK-mysql"
    )
    assert "UnpatchedDriverWarning" in _categories(out["findings"])
    debug = [f for f in out["findings"] if f["category"] == "DebuggerWarning"]
    if debugger:
        assert len(debug) == 1
        assert debug[0]["location"] == line_of("bare_advice.py", "MARK-bare")
    else:
        assert debug == []


def test_bare_monkey_patch_off_main_thread_is_reported() -> None:
    """A bare monkey_patch() from a non-main thread gets the bootstrap's
    off-main LatePatchWarning, naming the thread."""
    result = run_isolated("off_main.py", "bare", timeout=40)
    assert result.returncode == 0, result.stderr
    out = result.json()
    warnings = out["warnings"]
    [late] = [w for w in warnings if w["category"] == "LatePatchWarning"]
    assert "'wsgi-loader'" in late["message"]
    assert "not the main thread" in late["message"]
    assert "LatePatchWarning" in _categories(out["findings"])


def test_early_thread_from_a_parent_package_names_that_package() -> None:
    """The bootstrap is first in svc/cmd/__init__.py, but svc/__init__.py
    ran before it and started the thread: the fix names svc/__init__.py,
    not only "make the bootstrap the first import" (which it already
    is)."""
    result = run_isolated(
        "-m parent_svc.cmd.api",
        env={"PATCHGUARD_MODE": "eventlet"},
        cwd=ISOLATED,
        pre_args=("-W", "ignore::DeprecationWarning"),
    )
    assert result.returncode == 0, result.stderr
    assert "API RAN" in result.stdout
    assert "EarlyThreadWarning" in result.stderr
    assert "'parent-thread'" in result.stderr
    assert (
        "Python imports parent packages first: parent_svc/__init__.py ran "
        "before parent_svc/cmd/__init__.py, which patches; if a thread "
        "starts there, move `import patchguard.bootstrap` to the top of "
        "parent_svc/__init__.py (or start the thread in main())."
    ) in result.stderr
