"""Real OpenStack services from PyPI under patchguard (issue 12 §0, §3).

nova 34 decides for itself (``nova/monkey_patch.py`` selects oslo.service's
THREADING backend and poisons eventlet); ceilometer 27 decides nothing and
gets oslo.service's EVENTLET backend as a side effect of importing
oslo.messaging; cinder 29 reads OS_CINDER_DISABLE_EVENTLET_PATCHING.  All
are installed once into a cached venv under
``.cache/native-services`` by ``.ci/native-services.sh``; when that install
fails the tests skip with the log's path.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT, clean_env

pytestmark = [pytest.mark.services, pytest.mark.slow]
CACHE = Path(
    os.environ.get("PATCHGUARD_SERVICES_CACHE")
    or ROOT / ".cache" / "native-services"
)


@pytest.fixture(scope="module")
def python() -> Path:
    """The cached venv's interpreter (built on first use)."""
    subprocess.run(
        ["bash", str(ROOT / ".ci" / "native-services.sh")],
        check=False,
        timeout=1800,
        stdin=subprocess.DEVNULL,
    )
    interpreter = CACHE / "venv" / "bin" / "python"
    if not (CACHE / ".installed").exists() or not interpreter.exists():
        pytest.skip(
            f"nova/ceilometer/cinder could not be installed: see "
            f"{CACHE / 'install.log'}"
        )
    return interpreter


def _run(
    python: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), *args],
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        cwd=str(CACHE),
    )


def _site_packages(python: Path) -> Path:
    (found,) = (CACHE / "venv" / "lib").glob("python3*/site-packages")
    return found


def test_nova_compute_check_names_nova_decision(python: Path) -> None:
    """check of nova-compute: exit 0 and the decision is nova's own,
    "native, decided by nova/monkey_patch.py:NN (oslo.service
    THREADING)", with NN the line of nova's init_backend call."""
    result = _run(
        python, "-m", "patchguard", "check", "-m", "nova.cmd.compute"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    source = (_site_packages(python) / "nova" / "monkey_patch.py").read_text()
    (line,) = [
        n
        for n, text in enumerate(source.splitlines(), 1)
        if "init_backend(service.BackendType.THREADING)" in text
    ]
    assert (
        f"decision    native, decided by nova/monkey_patch.py:{line} "
        f"(oslo.service THREADING)" in result.stdout
    )
    assert (
        f"oslo        backend threading (init_backend(THREADING) at "
        f"nova/monkey_patch.py:{line})" in result.stdout
    )
    assert "result      clean" in result.stdout


def test_nova_compute_check_json(python: Path) -> None:
    """check --json of nova-compute: kind "project", mode native, backend
    threading, executor not loaded or threading, no findings."""
    result = _run(
        python, "-m", "patchguard", "check", "--json", "-m", "nova.cmd.compute"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["decision"]["kind"] == "project"
    assert report["decision"]["mode"] == "native"
    assert report["state"]["oslo_backend"]["backend"] == "threading"
    assert report["state"]["patched"] == []
    assert report["findings"] == []


def test_nova_runs_under_run_and_run_watch(python: Path) -> None:
    """nova-compute starts (``--version``) under ``run --watch`` and the
    default ``run``; only an operator's eventlet choice trips nova's
    poison."""
    for args in (("run", "--watch"), ("run",)):
        ok = _run(
            python, "-m", "patchguard", *args, "-m", "nova.cmd.compute",
            "--version",
        )
        assert ok.returncode == 0, (args, ok.stderr)
        assert "RuntimeError" not in ok.stderr
    green = _run(
        python, "-m", "patchguard", "run", "--mode", "eventlet", "-m",
        "nova.cmd.compute", "--version",
    )
    assert green.returncode != 0
    assert "eventlet library imported early" in green.stderr


def test_ceilometer_check_flags_default_eventlet_backend(python: Path) -> None:
    """check of ceilometer-polling (decides nothing): oslo.service runs
    the EVENTLET backend in an unpatched process, named at the
    get_backend() default with the ceilometer line behind it."""
    result = _run(
        python, "-m", "patchguard", "check", "-m", "ceilometer.cmd.polling"
    )
    assert result.returncode == 1, result.stderr
    assert "BackendMismatchWarning" in result.stdout
    assert re.search(
        r"backend is EVENTLET \(selected by get_backend\(\) default at "
        r"oslo_service/service\.py:\d+ \(from ceilometer/",
        result.stdout,
    ), result.stdout
    assert 'patchguard.apply(default=\\"native\\")' not in result.stdout
    assert 'patchguard.apply(default="native")' in result.stdout


ADOPT = """\
import json, sys
import patchguard
patchguard.apply(default="native")
import ceilometer.cmd.polling
state = patchguard.state().to_dict()
print(json.dumps({"state": state, "eventlet": "eventlet" in sys.modules}))
"""


def test_ceilometer_adopted_native_is_consistent(python: Path) -> None:
    """ceilometer with the recommended adoption
    (``patchguard.apply(default="native")``): native, oslo.service
    THREADING selected by patchguard, no eventlet loaded (oslo's probing
    imports fall back while the backend is selected), no mismatch."""
    result = _run(python, "-c", ADOPT)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.splitlines()[-1])
    state = out["state"]
    assert state["mode"] == "native"
    assert state["oslo_backend"]["backend"] == "threading"
    assert state["oslo_backend"]["selected_by"].startswith("patchguard")
    categories = {f["category"] for f in state["findings"]}
    assert "BackendMismatchWarning" not in categories
    if out["eventlet"]:
        # A library imported it anyway: then it is named, with its chain.
        assert "EventletImportWarning" in categories
        assert state["eventlet_imported_by"].startswith("<string>")


CINDER_VOLUME = """\
import json
import patchguard.bootstrap
import cinder.cmd.volume
import patchguard
state = patchguard.state().to_dict()
print(json.dumps(state))
"""


@pytest.mark.parametrize(
    ("value", "mode", "backend"),
    [("1", "native", "threading"), ("0", "eventlet", "eventlet")],
)
def test_cinder_volume_reads_its_own_switch(
    python: Path, tmp_path: Path, value: str, mode: str, backend: str
) -> None:
    """A cinder-volume script that bootstraps, with
    OS_CINDER_DISABLE_EVENTLET_PATCHING and no PATCHGUARD_PROJECT: the
    project is inferred (cinder), so true is native and false eventlet,
    matching the backend cinder 29 itself selects."""
    script = tmp_path / "cinder-volume"
    script.write_text(CINDER_VOLUME)
    result = _run(
        python, str(script), OS_CINDER_DISABLE_EVENTLET_PATCHING=value
    )
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout.strip().splitlines()[-1])
    assert (state["mode"], state["decided_by"], state["project"]) == (
        mode,
        "OS_CINDER_DISABLE_EVENTLET_PATCHING",
        "cinder",
    )
    assert state["oslo_backend"]["backend"] == backend
    assert ("thread" in state["patched"]) is (mode == "eventlet")
    assert not [
        f
        for f in state["findings"]
        if f["category"] == "BackendMismatchWarning"
    ]
