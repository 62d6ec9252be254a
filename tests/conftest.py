"""Shared fixtures: the isolated runner."""

from __future__ import annotations

import sys

import pytest

from tests.helpers import run_isolated

# Sample suites the parity tests run as data (one differs between modes on
# purpose): never part of this suite.
collect_ignore = ["data"]


@pytest.fixture
def isolated():  # type: ignore[no-untyped-def]
    """The :func:`tests.helpers.run_isolated` runner."""
    return run_isolated


@pytest.fixture
def no_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the test process itself from looking like a host or tool."""
    for name in ("mod_wsgi", "uwsgi", "debugpy", "pydevd", "_pydevd_bundle"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(sys, "argv", ["service"])
    monkeypatch.setattr(sys, "gettrace", lambda: None)
