"""check, run and report against real OpenStack services from PyPI.

nova 34 and cinder 29, as released, come from the cached venv of
``.ci/native-services.sh`` (shared with ``tests/test_native_services.py``;
patchguard is the checkout, on PYTHONPATH).  Their real ``cmd`` modules
and console scripts are driven through ``python -m patchguard`` (the same
CLI as the console script, see ``tests/test_cli.py``) in both modes: each
service's own switch (``OS_<PROJECT>_DISABLE_EVENTLET_PATCHING``) makes it
patch with a bare ``eventlet.monkey_patch()`` or stay native.  When the
venv could not be built the tests skip and say why.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT, Result, clean_env

# The services venv and its fixture (``python``, built on first use,
# skipping with the install log's path) are the native-services tests'.
from tests.test_native_services import CACHE
from tests.test_native_services import python as python  # noqa: F401

pytestmark = [pytest.mark.services, pytest.mark.slow]

SERVICES = {
    # service: (console script, cmd module, version)
    "nova": ("nova-compute", "nova.cmd.compute", "34."),
    "cinder": ("cinder-volume", "cinder.cmd.volume", "29."),
}
MODES = {"eventlet": "0", "native": "1"}


def _run(script: Path, *args: str, **env: str) -> Result:
    start = time.monotonic()
    proc = subprocess.run(
        [str(script), "-m", "patchguard", *args],
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=180,
        cwd=CACHE,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    # Shown by `pytest -rA` / --durations: what each real command costs.
    print(f"{' '.join(args)}: {time.monotonic() - start:.1f} s")
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _switch(service: str, mode: str) -> dict[str, str]:
    return {f"OS_{service.upper()}_DISABLE_EVENTLET_PATCHING": MODES[mode]}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("service", SERVICES)
def test_check_real_console_script(
    python: Path, service: str, mode: str
) -> None:
    """check nova-compute / cinder-volume: one JSON document on stdout
    (the service's logging on stderr), the service's own decision found
    at its monkey_patch.py line in both modes (a bare patch, or the
    THREADING backend), PATCHGUARD_MODE named as ignored, check's own
    exit status."""
    console, _module, _version = SERVICES[service]
    result = _run(
        python,
        "check",
        "--json",
        console,
        PATCHGUARD_MODE="native",
        **_switch(service, mode),
    )
    report = json.loads(result.stdout)
    assert result.returncode == report["status"], result.stderr[-3000:]
    assert report["target"] == f"{console} ({_module}:main)"
    assert "usage:" not in result.stderr  # main() never ran
    decision = report["decision"]
    if mode == "eventlet":
        assert decision["kind"] == "monkey_patch", decision
        assert f"{service}/monkey_patch.py:" in decision["site"]
        assert any(
            f["category"] == "LatePatchWarning" for f in report["findings"]
        )
    else:
        # The service selected oslo.service's THREADING backend itself.
        assert decision["kind"] == "project", decision
        assert f"{service}/monkey_patch.py:" in decision["site"]
    ignored = {i["variable"] for i in report["ignored_variables"]}
    assert "PATCHGUARD_MODE" in ignored


@pytest.mark.parametrize("service", SERVICES)
def test_check_real_cmd_module_matches_console_script(
    python: Path, service: str
) -> None:
    """check -m nova.cmd.compute reaches the same decision as the console
    script, without running main()."""
    console, module, _version = SERVICES[service]
    env = _switch(service, "eventlet")
    by_module = _run(python, "check", "--json", "-m", module, **env)
    report = json.loads(by_module.stdout)
    assert report["target"] == f"-m {module}"
    assert report["decision"]["kind"] == "monkey_patch"
    assert f"{service}/monkey_patch.py:" in report["decision"]["site"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("service", SERVICES)
def test_run_real_console_script_and_cmd_module(
    python: Path, service: str, mode: str
) -> None:
    """run nova-compute --version and run -m nova.cmd.compute --version
    run the service's real main() (it prints the release) in both modes;
    exit 0."""
    console, module, version = SERVICES[service]
    targets = (
        [(console,), ("-m", module)] if mode == "native" else [(console,)]
    )
    for target in targets:
        result = _run(
            python,
            "run",
            "--mode",
            mode,
            *target,
            "--version",
            **_switch(service, mode),
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert result.stdout.strip().startswith(version), result.stdout


@pytest.mark.parametrize("service", SERVICES)
def test_run_native_refuses_the_services_own_patch(
    python: Path, service: str
) -> None:
    """run --mode native on a service told to patch itself: its
    monkey_patch() is refused with PatchOrderError, the traceback ends at
    the service's line with no patchguard frame; the same command in
    eventlet mode runs."""
    console, _module, version = SERVICES[service]
    env = _switch(service, "eventlet")
    native = _run(
        python, "run", "--mode", "native", console, "--version", **env
    )
    assert native.returncode == 1
    assert "PatchOrderError" in native.stderr
    assert f"{service}/monkey_patch.py" in native.stderr
    assert str(ROOT / "patchguard") + os.sep not in native.stderr
    green = _run(
        python,
        "run",
        "--mode",
        "eventlet",
        console,
        "--version",
        **env,
    )
    assert green.returncode == 0, green.stderr[-3000:]
    assert green.stdout.strip().startswith(version)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("service", SERVICES)
def test_report_with_the_services_switch(
    python: Path, service: str, mode: str
) -> None:
    """report in the services' venv honours PATCHGUARD_PROJECT and the
    service's own switch, in both modes."""
    result = _run(
        python,
        "report",
        "--json",
        PATCHGUARD_PROJECT=service,
        **_switch(service, mode),
    )
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    assert state["mode"] == mode
    assert state["project"] == service
    if mode == "native":
        assert state["decided_by"] == (
            f"OS_{service.upper()}_DISABLE_EVENTLET_PATCHING"
        )
