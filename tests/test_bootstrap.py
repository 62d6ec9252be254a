"""The bootstrap end to end, each case in a fresh interpreter."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patchguard import ConfigError
from patchguard._decision.policy import decide
from tests.helpers import line_of, run_isolated
from tests.test_policy import VARS

pytestmark = pytest.mark.isolated

GREEN_ALL = {
    "os": "green",
    "queue": "green",
    "select": "green",
    "socket": "green",
    "ssl": "green",
    "subprocess": "green",
    "threading": "green",
    "time": "green",
}


def _state(**env: str) -> dict:  # type: ignore[type-arg]
    result = run_isolated("state_json.py", env=env)
    assert result.returncode == 0, result.stderr
    return result.json()  # type: ignore[no-any-return]


def test_default_patches_everything_and_reports_truthfully() -> None:
    """A bare bootstrap is eventlet mode; the modules map is all green."""
    state = _state()
    assert state["mode"] == "eventlet"
    assert state["decided_by"] == "default"
    assert state["patched"] == [
        "os",
        "select",
        "socket",
        "subprocess",
        "thread",
        "time",
    ]
    assert state["modules"] == GREEN_ALL
    assert state["warnings"] == []


def test_native_mode_imports_no_eventlet() -> None:
    """Native mode: nothing patched, eventlet never imported."""
    state = _state(PATCHGUARD_MODE="native")
    assert state["mode"] == "native"
    assert state["decided_by"] == "PATCHGUARD_MODE"
    assert state["eventlet_imported"] is False
    assert state["patched"] == []
    assert set(state["modules"].values()) == {"native"}


def test_partial_patch_modules_map() -> None:
    """PATCHGUARD_PATCH=socket,time: only those (and ssl) are green."""
    state = _state(PATCHGUARD_PATCH="socket,time")
    assert state["patched"] == ["socket", "time"]
    green = sorted(k for k, v in state["modules"].items() if v == "green")
    assert green == ["socket", "ssl", "time"]


def test_native_refuses_later_monkey_patch() -> None:
    """In native mode a later monkey_patch raises PatchOrderError at the
    caller's line, and nothing becomes green."""
    result = run_isolated(
        "native_refuses.py", env={"PATCHGUARD_MODE": "native"}
    )
    assert result.returncode == 0, result.stderr
    out = result.json()
    assert out["imported_after_bootstrap"] is False
    assert out["error"].startswith("PatchOrderError: eventlet.monkey_patch()")
    assert line_of("native_refuses.py", "# MARK") in out["error"]
    assert "PATCHGUARD_MODE" in out["error"]
    assert out["error2"] == "PatchOrderError"
    assert out["patched"] == []


@pytest.mark.parametrize(
    ("env", "mode", "decided_by"),
    [
        (
            {"DISABLE_EVENTLET_PATCHING": "1"},
            "native",
            "DISABLE_EVENTLET_PATCHING",
        ),
        (
            {
                "PATCHGUARD_PROJECT": "nova",
                "OS_NOVA_DISABLE_EVENTLET_PATCHING": "true",
            },
            "native",
            "OS_NOVA_DISABLE_EVENTLET_PATCHING",
        ),
        (
            {"PATCHGUARD_MODE": "eventlet", "DISABLE_EVENTLET_PATCHING": "1"},
            "eventlet",
            "PATCHGUARD_MODE",
        ),
    ],
)
def test_environment_end_to_end(
    env: dict[str, str], mode: str, decided_by: str
) -> None:
    """Legacy switches and their precedence hold in a real process."""
    state = _state(**env)
    assert (state["mode"], state["decided_by"]) == (mode, decided_by)
    assert state["eventlet_imported"] is (mode == "eventlet")


@pytest.mark.parametrize(
    ("kwargs", "env", "mode", "decided_by", "patched"),
    [
        ({"default": "native"}, {}, "native", "entry-point default", []),
        (
            {"default": "native"},
            {"PATCHGUARD_MODE": "eventlet"},
            "eventlet",
            "PATCHGUARD_MODE",
            None,
        ),
        (
            {"mode": "native"},
            {"PATCHGUARD_MODE": "eventlet"},
            "native",
            "argument",
            [],
        ),
        ({"patch": "socket"}, {}, "eventlet", "default", ["socket"]),
        (
            {"patch": "socket"},
            {"PATCHGUARD_PATCH": "time"},
            "eventlet",
            "default",
            ["time"],
        ),
    ],
)
def test_apply_arguments(
    kwargs: dict[str, str],
    env: dict[str, str],
    mode: str,
    decided_by: str,
    patched: list[str] | None,
) -> None:
    """apply()'s arguments sit where the contract puts them."""
    result = run_isolated("state_json.py", json.dumps(kwargs), env=env)
    assert result.returncode == 0, result.stderr
    state = result.json()
    assert (state["mode"], state["decided_by"]) == (mode, decided_by)
    if patched is not None:
        assert state["patched"] == patched


def test_idempotent_and_conflicts() -> None:
    """A second agreeing apply returns the same state; a disagreeing one
    raises ConfigError naming both decisions."""
    out = run_isolated("idempotent.py").json()
    assert out["same"] is True
    assert "mode=eventlet" in out["conflict"]
    assert "mode=native" in out["conflict"]
    assert "patch=socket" in out["conflict_patch"]


def test_concurrent_native_bootstrap_decides_once() -> None:
    """8 threads calling apply() at once in native mode: one state."""
    result = run_isolated("concurrent_apply.py", "native", timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.json()
    assert out["errors"] == []
    assert out["results"] == 8
    assert out["same_object"] is True
    assert out["monkey_patch_calls"] == 0


def test_concurrent_eventlet_bootstrap_is_refused_and_exits() -> None:
    """8 threads calling apply() at once in eventlet mode: each gets a
    PatchOrderError saying how to bootstrap, nothing is patched, a later
    bootstrap from the main thread works, and the process exits by itself
    (it hung at exit when the race patched)."""
    result = run_isolated("concurrent_apply.py", "eventlet", timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.json()
    assert out["monkey_patch_calls_while_racing"] == 0
    assert len(out["errors"]) == 8
    for error in out["errors"]:
        assert error.startswith(
            "PatchOrderError: patchguard.apply() in eventlet mode from "
            "thread 'Thread-"
        )
        assert "as when several threads bootstrap at once" in error
        assert "Nothing was patched" in error
        assert "from the main thread, before starting threads" in error
    assert out["then_mode"] == "eventlet"
    assert out["monkey_patch_calls"] == 1


def test_log_line() -> None:
    """One INFO line on logger 'patchguard' says mode, patches, decider."""
    result = run_isolated("log_line.py", env={"PATCHGUARD_PATCH": "all"})
    lines = [
        line
        for line in result.stdout.splitlines()
        if line.startswith("patchguard|")
    ]
    assert len(lines) == 1, result.stdout
    assert lines[0].startswith(
        "patchguard|patchguard: mode=eventlet "
        "patched=os,select,socket,subprocess,thread,time decided_by=default"
    )


def _invalid(environ: dict[str, str]) -> bool:
    try:
        decide(environ)
    except ConfigError:
        return True
    return False


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(VARS),
            st.text(
                alphabet=st.characters(
                    blacklist_categories=("Cs",), blacklist_characters="\x00"
                ),
                min_size=1,
                max_size=12,
            ),
            min_size=1,
        )
        .map(
            lambda d: (
                dict(d, PATCHGUARD_PROJECT="nova")
                if "OS_NOVA_DISABLE_EVENTLET_PATCHING" in d
                else d
            )
        )
        .filter(_invalid),
        min_size=10,
        max_size=25,
    )
)
def test_config_error_leaves_process_untouched(
    environs: list[dict[str, str]],
) -> None:
    """Generated invalid environments: apply() raises ConfigError and
    nothing is patched, eventlet is not imported, the mode stays unset."""
    result = run_isolated("bad_env_batch.py", json.dumps(environs))
    assert result.returncode == 0, result.stderr
    for item in result.json()["results"]:
        assert item["error"]
        assert item["mode"] == "unset"
        assert item["eventlet"] is False
        assert item["patched"] == []
