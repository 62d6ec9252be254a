"""``patchguard check --migration``: one verdict per entry point.

Runs the installed console script on the small services under
``tests/isolated/svc/mig_*``: one that can run native, one blocked by a
green helper that two of its modules import, one that only probes for
eventlet behind ``except ImportError``.
"""

from __future__ import annotations

import pytest

from tests.test_cli import SVC, cli, one_json

pytestmark = pytest.mark.isolated


@pytest.mark.parametrize(
    "target", [("-m", "mig_native.cmd"), ("mig_native.cmd:main",)]
)
def test_native_service_can_run_native(target: tuple[str, ...]) -> None:
    """A service that never touches eventlet: verdict native, exit 0."""
    result = cli("check", "--migration", "--json", *target)
    assert result.returncode == 0, result.stdout + result.stderr
    doc = one_json(result)
    moved = doc["migration"]
    assert moved["verdict"] == "can run native"
    assert moved["blocked_by"] == []
    assert moved["probes"] == []
    assert moved["runtime"]["eventlet_imported_by"] is None
    assert doc["status"] == 0
    human = cli("check", "--migration", *target)
    assert human.returncode == 0
    assert "verdict     can run native" in human.stdout


def test_blocked_service_names_the_helper_first() -> None:
    """spawn + GreenPool in a helper imported by two modules block the
    service, listed before a use nobody imports; a module the entry
    point never imports does not count."""
    result = cli("check", "--migration", "--json", "-m", "mig_blocked.cmd")
    assert result.returncode == 1, result.stdout + result.stderr
    moved = one_json(result)["migration"]
    assert moved["verdict"] == "blocked"
    blocked = moved["blocked_by"]
    names = [(b["module"], b["name"], b["importers"]) for b in blocked]
    assert ("mig_blocked.pool", "eventlet.spawn", 2) in names
    assert ("mig_blocked.pool", "eventlet.GreenPool", 2) in names
    assert [b["importers"] for b in blocked] == sorted(
        (b["importers"] for b in blocked), reverse=True
    )
    assert blocked[0]["module"] == "mig_blocked.pool"
    assert blocked[-1]["module"] == "mig_blocked.cmd"
    assert not any(b["module"] == "mig_blocked.unused" for b in blocked)
    pool = str(SVC / "mig_blocked" / "pool.py")
    assert any(b["location"] == f"{pool}:5" for b in blocked)
    # The runtime half: who imported eventlet at start-up.
    chain = moved["runtime"]["eventlet_imported_by"]
    assert "mig_blocked/pool.py:3" in chain
    human = cli("check", "--migration", "-m", "mig_blocked.cmd")
    assert human.returncode == 1
    assert "verdict     blocked by" in human.stdout
    assert "[mig_blocked.pool, imported by 2 module(s)]" in human.stdout


def test_guarded_probe_alone_can_run_native() -> None:
    """``try: import eventlet / except ImportError`` is a probe, listed
    but not blocking: exit 0."""
    result = cli("check", "--migration", "--json", "-m", "mig_probe.cmd")
    assert result.returncode == 0, result.stdout + result.stderr
    moved = one_json(result)["migration"]
    assert moved["verdict"] == "can run native"
    assert moved["blocked_by"] == []
    assert [p["location"] for p in moved["probes"]] == [
        f"{SVC / 'mig_probe' / 'cmd.py'}:4"
    ]
    # Plain check keeps its own status (a hazard: no decision) and
    # document.
    plain = cli("check", "--json", "-m", "mig_probe.cmd")
    assert "migration" not in one_json(plain)
    assert plain.returncode == 1


def test_migration_usage_error_exits_2() -> None:
    """A missing target with --migration is a usage error: one JSON
    document, exit 2."""
    result = cli("check", "--migration", "--json", "-m", "mig_nowhere.cmd")
    assert result.returncode == 2
    doc = one_json(result)
    assert doc["status"] == 2
    assert doc["argument"] != "--migration"
    assert "mig_nowhere.cmd" in doc["error"]


def test_library_uses_do_not_block_a_script() -> None:
    """A script whose own code is native runs native although futurist
    (installed, dual-mode) spells eventlet: listed under libraries."""
    result = cli("check", "--migration", "--json", "mig_lib.py")
    assert result.returncode == 0, result.stdout + result.stderr
    moved = one_json(result)["migration"]
    assert moved["verdict"] == "can run native"
    assert moved["target_package"] is None
    assert moved["libraries"]["futurist"] > 0
    human = cli("check", "--migration", "mig_lib.py")
    assert "not blocking: futurist (" in human.stdout
