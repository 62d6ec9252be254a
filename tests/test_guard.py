"""Import-order guard: early threads, stale references, late and off-main
patching, strict mode, fork — each in a fresh interpreter."""

from __future__ import annotations

import sys

import pytest

from tests.helpers import ISOLATED, line_of, run_isolated

pytestmark = pytest.mark.isolated


def _run(script: str, **env: str) -> dict:  # type: ignore[type-arg]
    result = run_isolated(script, env=env)
    assert result.returncode == 0, result.stderr
    return result.json()  # type: ignore[no-any-return]


def _only(warnings: list[dict], category: str) -> dict:  # type: ignore[type-arg]
    found = [w for w in warnings if w["category"] == category]
    assert len(found) == 1, warnings
    return found[0]


def test_clean_program_reports_nothing() -> None:
    """A bootstrap-first program has no findings and no warnings."""
    out = _run("clean.py")
    assert out["mode"] == "eventlet"
    assert out["early_threads"] == []
    assert out["stale_refs"] == []
    assert out["findings"] == []
    assert out["warnings"] == []


def test_early_threads_named_with_target_and_start_site() -> None:
    """Threads running before patching are listed in one warning: name,
    ident, daemon, target file:line and, when watched, the start line;
    a thread hidden from threading.enumerate() is found too."""
    out = _run("early_threads.py")
    by_name = {t["name"]: t for t in out["early_threads"]}
    bird = by_name["early-bird"]
    assert bird["started_at"] == line_of("early_mod.py", "threading.Thread(")
    assert bird["target"].startswith("heartbeat (")
    assert bird["target"].endswith(
        line_of("early_mod.py", "def heartbeat") + ")"
    )
    assert bird["daemon"] is True
    assert isinstance(bird["ident"], int)
    unwatched = by_name["unwatched"]
    assert unwatched["started_at"] is None
    assert "unwatched_worker" in unwatched["target"]
    hidden = by_name["<hidden>"]
    assert "running hidden at" in hidden["target"]
    warning = _only(out["warnings"], "EarlyThreadWarning")
    for needle in (
        "'early-bird'",
        "'unwatched'",
        "<hidden>",
        bird["started_at"],
        "import patchguard.bootstrap",
    ):
        assert needle in warning["message"]
    assert warning["filename"] == str(ISOLATED / "early_threads.py")


def test_stale_references_named() -> None:
    """Names bound and instances made before patching are each reported
    as module.attr -> original."""
    out = _run("stale_refs.py")
    got = {(r["module"], r["attr"]): r["original"] for r in out["stale_refs"]}
    assert got == {
        ("__main__", "sleep"): "time.sleep",
        ("__main__", "Lock"): "threading.Lock",
        ("__main__", "Popen"): "subprocess.Popen",
        ("__main__", "SimpleQueue"): "queue.SimpleQueue",
        ("__main__", "LOCK"): "instance of _thread.lock",
        ("__main__", "QUEUE"): "instance of _queue.SimpleQueue",
        ("__main__", "CONTEXT"): "instance of ssl.SSLContext",
    }
    message = _only(out["warnings"], "StaleReferenceWarning")["message"]
    assert "__main__.sleep -> time.sleep" in message
    assert "time.sleep, not sleep" in message


def test_late_patch_warns_when_it_changes_or_cannot_undo() -> None:
    """A later monkey_patch is recorded with its line; one that patches
    more, or asks to unpatch, gives LatePatchWarning naming it; one that
    changes nothing is only recorded."""
    out = _run("late_patch.py", PATCHGUARD_PATCH="socket,time")
    sites = [c["site"] for c in out["late_patches"]]
    assert sites == [
        line_of("late_patch.py", "MARK-same"),
        line_of("late_patch.py", "MARK-late"),
        line_of("late_patch.py", "MARK-undo"),
    ]
    late, undo = [
        w for w in out["warnings"] if w["category"] == "LatePatchWarning"
    ]
    assert line_of("late_patch.py", "MARK-late") in late["message"]
    assert "patched thread" in late["message"]
    assert line_of("late_patch.py", "MARK-undo") in undo["message"]
    assert "cannot undo a patch" in undo["message"]
    assert f"{undo['filename']}:{undo['lineno']}" == line_of(
        "late_patch.py", "MARK-undo"
    )
    assert "thread" in out["patched"]


def test_patching_off_the_main_thread_names_the_thread() -> None:
    """Bootstrapping from a non-main thread warns, naming that thread."""
    result = run_isolated("off_main.py", timeout=40)
    assert result.returncode == 0, result.stderr
    warning = _only(result.json()["warnings"], "LatePatchWarning")
    assert "'wsgi-loader'" in warning["message"]
    assert "not the main thread" in warning["message"]


def test_strict_refuses_before_patching() -> None:
    """PATCHGUARD_STRICT=1: an early thread raises PatchOrderError listing
    it, and nothing is patched."""
    out = _run("strict_refuses.py", PATCHGUARD_STRICT="1")
    assert out["error"].startswith("PATCHGUARD_STRICT: refusing to patch.")
    assert "'too-early'" in out["error"]
    assert line_of("strict_refuses.py", "MARK-start") in out["error"]
    assert out["mode"] == "unset"
    assert out["patched"] == []


def test_strict_clean_program_patches() -> None:
    """Strict mode lets a clean program through."""
    out = _run("clean.py", PATCHGUARD_STRICT="yes")
    assert out["mode"] == "eventlet"
    assert out["strict"] is True


@pytest.mark.skipif(sys.platform == "win32", reason="fork() is POSIX")
def test_fork_warns_once_naming_greenthreads() -> None:
    """fork() with a greenthread running: one ForkWarning that names the
    greenthread's function and line (two forks, one warning)."""
    out = _run("fork_warn.py")
    warning = _only(out["warnings"], "ForkWarning")
    assert (
        "periodic_task at " + line_of("fork_warn.py", "eventlet.sleep(0.05)")
        in warning["message"]
    )
    assert "run in both processes" in warning["message"]


def test_bare_patch_before_bootstrap_is_reported() -> None:
    """A monkey_patch() before the bootstrap is named in a
    LatePatchWarning (eventlet mode)."""
    out = _run("patched_before.py")
    assert out["mode"] == "eventlet"
    message = _only(out["warnings"], "LatePatchWarning")["message"]
    assert line_of("patched_before.py", "MARK-bare") in message
    assert "before patchguard's bootstrap" in message


def test_native_refused_when_already_patched() -> None:
    """Deciding native after something patched raises PatchOrderError
    naming the call: the process is not native, so patchguard won't say
    it is."""
    out = _run("patched_before.py", PATCHGUARD_MODE="native")
    assert out["mode"] == "unset"
    assert out["error"].startswith("cannot run native")
    assert line_of("patched_before.py", "MARK-bare") in out["error"]
