"""Shared fixtures: the isolated runner."""

from __future__ import annotations

import pytest

from tests.helpers import run_isolated


@pytest.fixture
def isolated():  # type: ignore[no-untyped-def]
    """The :func:`tests.helpers.run_isolated` runner."""
    return run_isolated
