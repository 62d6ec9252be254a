"""Dual-mode test runs: the same tests once per mode, outcomes compared.

``results`` reads JUnit XML and subunit and prints the table, ``runner``
holds what both runners share (the modes, the environment per mode, the
loop), ``pytest_modes`` is ``pytest --patchguard-modes`` and ``command``
is ``patchguard parity -- COMMAND...``.
"""

from __future__ import annotations

import os

#: Set in every child run, so a child never starts runs of its own (an
#: inherited ``PYTEST_ADDOPTS=--patchguard-modes=...`` would otherwise
#: recurse).  Here, not in ``runner``, so the pytest plugin can ask
#: without importing the runners.
CHILD_VAR = "PATCHGUARD_PARITY_CHILD"


def is_child() -> bool:
    """Return whether this process is one of a dual-mode run's children."""
    return bool(os.environ.get(CHILD_VAR))
