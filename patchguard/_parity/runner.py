"""What both dual-mode runners share: modes, environment, the loop.

Each mode runs in a fresh process: patching cannot be undone, so the
only honest comparison is two interpreters that each decided their mode
at start-up, exactly as a service does.
"""

from __future__ import annotations

import collections
import sys

from patchguard._decision import policy as _policy
from patchguard._errors import ConfigError
from patchguard._parity import CHILD_VAR
from patchguard._parity import results as _results

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

MODES = ("eventlet", "native")


def parse_modes(name: str, value: str) -> list[str]:
    """Parse a comma-separated list of at least two different modes.

    :param name: the option, for the message.
    :param value: e.g. ``"eventlet,native"``.
    :returns: the modes, in the order given.
    :raises ConfigError: naming the option, the value and the accepted
        values.
    """
    modes = [m.strip().lower() for m in value.split(",") if m.strip()]
    shown = value if len(value) <= 60 else value[:57] + "..."
    if (
        len(set(modes)) < 2
        or len(set(modes)) != len(modes)
        or not set(modes) <= set(MODES)
    ):
        raise ConfigError(
            f"{name}={shown!r} is not valid; accepted: two or more "
            f"different modes from {', '.join(MODES)}, comma-separated "
            f"(e.g. 'eventlet,native')"
        )
    return modes


def mode_env(
    mode: str, project: str | None, environ: Mapping[str, str]
) -> dict[str, str]:
    """Return the environment of a child run in ``mode``.

    :param mode: ``"eventlet"`` or ``"native"``.
    :param project: a project whose legacy switch
        (``OS_<PROJECT>_DISABLE_EVENTLET_PATCHING``) is set too, so a
        suite that reads only its own switch (nova's, cinder's
        ``tests/unit/__init__.py``) follows the mode.
    :param environ: the environment to start from.
    :returns: a new environment.
    """
    env = dict(environ)
    native = "true" if mode == "native" else "false"
    env[_policy.MODE_VAR] = mode
    env[_policy.LEGACY_VAR] = native
    if project:
        env[_policy.project_var(project)] = native
    env[CHILD_VAR] = mode
    return env


def run_modes(
    modes: Sequence[str],
    run_one: Callable[[str], tuple[int, _results.Outcomes]],
    allow: Sequence[str] = (),
) -> int:
    """Run once per mode, print the differences, return the status.

    :param modes: the modes, in run order.
    :param run_one: runs the tests in one mode; returns its exit status
        and outcomes.
    :param allow: globs of test ids allowed to differ.
    :returns: see :func:`results.verdict` (a run's own status, such as
        pytest's 2 for collection errors, is returned when nothing
        differs).
    """
    runs: dict[str, _results.Outcomes] = {}
    rcs: list[int] = []
    for index, mode in enumerate(modes, 1):
        sys.stdout.write(
            f"patchguard: run {index}/{len(modes)}: mode={mode}\n"
        )
        sys.stdout.flush()
        rc, outcomes = run_one(mode)
        runs[mode] = outcomes
        rcs.append(rc)
    differences = _results.compare(runs, allow)
    for mode, rc in zip(modes, rcs, strict=True):
        counts = collections.Counter(runs[mode].by_test.values())
        detail = ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))
        sys.stdout.write(
            f"patchguard: {mode}: {len(runs[mode].by_test)} tests "
            f"({detail or 'none'}), exit {rc}\n"
        )
    sys.stdout.write(
        _results.table(modes, differences)
        or "patchguard: no test differs between modes\n"
    )
    return _results.verdict(rcs, runs, differences)
