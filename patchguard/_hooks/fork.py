"""Call the fork detector just before every ``fork()``, in every mode.

Installed at the first ``import patchguard``, so it must stay tiny: a
plain wrapper around :func:`os.fork` (warnings raised there surface at the
caller's line, where ``-W error`` can turn them into an exception) and an
:func:`os.register_at_fork` ``before`` hook for forks made from C (an
exception raised there is only printed, so it never raises).  Neither
imports anything: the detector loads on the first fork.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_installed = False
# True while our own wrapper forks: the at-fork hook then has nothing to
# add (forks are rare and serialised by the caller's own logic).
_in_wrapper = False


def _detect(from_wrapper: bool) -> None:
    from patchguard._detectors import fork as _fork

    _fork.before_fork(from_wrapper)


def _at_fork() -> None:
    if _in_wrapper:
        return
    try:
        _detect(False)
    except Exception:  # noqa: BLE001, S110 - never break a fork from C
        pass


def _wrap(original: Callable[[], int]) -> Callable[[], int]:
    def fork() -> int:
        global _in_wrapper
        _detect(True)
        _in_wrapper = True
        try:
            return original()
        finally:
            _in_wrapper = False

    fork.__doc__ = original.__doc__
    fork.__name__ = original.__name__
    fork.__qualname__ = original.__qualname__
    fork._patchguard_original = original  # type: ignore[attr-defined]
    return fork


def watch() -> None:
    """Install the fork watch (idempotent; a no-op without ``fork``)."""
    global _installed
    if _installed or not hasattr(os, "fork"):
        return
    _installed = True
    os.fork = _wrap(os.fork)
    os.register_at_fork(before=_at_fork)
