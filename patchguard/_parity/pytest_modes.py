"""``pytest --patchguard-modes=eventlet,native``: one run per mode.

The invoking pytest does not run tests itself: it starts one child per
mode, ``python -m pytest`` with the same arguments (``-k``, ``-x``,
``-m``, ``--patchguard-strict``... all apply in each child) plus
``--patchguard-mode=MODE`` and ``--junitxml`` to a temporary file, each
in a fresh interpreter because patching cannot be undone.  The children
print their own reports; the parent then prints the table of tests whose
outcome differs and exits 1 when one that is not marked
``@pytest.mark.patchguard_mode_specific`` does.

A child records the marker as a JUnit ``<property>`` of the test (see
:func:`mark_mode_specific`), so the parent never imports the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from patchguard._parity import results as _results
from patchguard._parity import runner as _runner

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    import pytest

OPTION = "--patchguard-modes"
MARKER = _results.MODE_SPECIFIC


def child_args(args: Sequence[str], mode: str, junit: str) -> list[str]:
    """Return a child's pytest arguments.

    :param args: the parent's arguments (``invocation_params.args``).
    :param mode: the child's mode.
    :param junit: the JUnit XML file the child writes.
    :returns: ``args`` without ``--patchguard-modes``, plus the mode and
        the JUnit file (after the user's own ``--junitxml``, so ours wins).
    """
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == OPTION:
            skip = True
            continue
        if arg.startswith(OPTION + "="):
            continue
        out.append(arg)
    return [
        *out,
        f"--patchguard-mode={mode}",
        f"--junitxml={junit}",
    ]


def run(config: pytest.Config, value: str) -> int:
    """Run the suite once per mode in child interpreters; compare.

    :param config: the parent's configuration.
    :param value: the ``--patchguard-modes`` value.
    :returns: the exit status (see :func:`runner.run_modes`).
    :raises patchguard.ConfigError: on a bad value.
    """
    modes = _runner.parse_modes(OPTION, value)
    if getattr(config.option, "patchguard_mode", None):
        from patchguard._errors import ConfigError

        raise ConfigError(
            f"{OPTION} and --patchguard-mode cannot be combined: "
            f"{OPTION} sets each run's mode itself"
        )
    args = list(config.invocation_params.args)
    cwd = str(config.invocation_params.dir)
    with tempfile.TemporaryDirectory(prefix="patchguard-modes-") as tmp:

        def run_one(mode: str) -> tuple[int, _results.Outcomes]:
            junit = os.path.join(tmp, f"{mode}.xml")
            env = _runner.mode_env(mode, None, os.environ)
            # The child prints straight to our stdout/stderr: its report
            # is the one the user reads for failures.
            rc = subprocess.call(  # noqa: S603 - our own interpreter
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    *child_args(args, mode, junit),
                ],
                cwd=cwd,
                env=env,
            )
            if not os.path.exists(junit):
                return rc, _results.Outcomes()
            return rc, _results.read_junit(junit)

        return _runner.run_modes(modes, run_one)


def mark_mode_specific(item: pytest.Item) -> None:
    """Record the ``patchguard_mode_specific`` marker in the JUnit XML.

    :param item: a collected test, in a child run.
    """
    if item.get_closest_marker(MARKER) is not None:
        item.user_properties.append((MARKER, "1"))
