"""Which frames are "the user": the culprit finder's classification."""

from __future__ import annotations

import importlib
import os
import runpy

import pytest

from patchguard import _where


@pytest.mark.parametrize(
    "module", [runpy, importlib], ids=["runpy", "importlib.import_module"]
)
def test_import_and_dash_m_machinery_is_never_the_user(module: object) -> None:
    """``python -m`` and ``importlib.import_module`` are machinery on every
    Python: 3.10 runs them from plain ``runpy.py`` and
    ``importlib/__init__.py``, where 3.11+ freezes runpy.  A strict report
    at ``runpy.py:86`` blamed nobody (the 3.10 matrix caught it)."""
    filename = getattr(module, "__file__", None) or "<frozen runpy>"
    assert _where.is_internal(filename)
    assert _where.kind(filename) == _where.INTERNAL


def test_other_stdlib_files_are_platform_not_machinery() -> None:
    """The rest of the standard library acts for someone else: the walk
    goes past it but it is not skipped as machinery."""
    assert not _where.is_internal(os.__file__)
    assert _where.kind(os.__file__) == _where.PLATFORM


def test_user_file_is_user(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "svc", "cmd", "api.py")
    assert _where.kind(path) == _where.USER
