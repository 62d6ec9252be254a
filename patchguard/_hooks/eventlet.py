"""Everything that touches eventlet: patching, and guarding monkey_patch.

This module is imported only once eventlet is in play (patchguard patches,
or somebody else imported eventlet), so it may use wrapt: by then eventlet
has loaded asyncio and importlib.metadata, which is what makes wrapt's
import expensive on its own.

``eventlet.monkey_patch`` is wrapped as soon as eventlet is imported, so
that every call made by anyone but patchguard is recorded with its caller's
``file:line``:

* in native mode the call raises :class:`~patchguard.PatchOrderError` (the
  service asked for native; silently going green is the worst outcome);
* in eventlet mode it is a *late* patch: recorded, and a
  :class:`~patchguard.LatePatchWarning` when it changes what is patched;
* before any decision it is a *bare* patch, which ``python -m patchguard
  check`` reports as where the entry point really decided.
"""

from __future__ import annotations

import sys

from patchguard import _where
from patchguard._errors import PatchOrderError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any


class PatchCall:
    """A call to ``eventlet.monkey_patch()`` made outside patchguard.

    :ivar site: the caller's ``file:line``.
    :ivar thread: the calling thread's name.
    :ivar kwargs: the keyword arguments it was called with.
    :ivar before: option names in effect before the call.
    :ivar after: option names in effect after it (``None`` if refused).
    :ivar mode: patchguard's mode at the time of the call.
    """

    __slots__ = (
        "site",
        "thread",
        "kwargs",
        "before",
        "after",
        "mode",
        "findings",
    )

    def __init__(
        self,
        site: str,
        thread: str,
        kwargs: dict[str, Any],
        before: frozenset[str],
        mode: str,
    ) -> None:
        self.site = site
        self.thread = thread
        self.kwargs = kwargs
        self.before = before
        self.after: frozenset[str] | None = None
        self.mode = mode
        #: what the audit found around a bare call (before any bootstrap).
        self.findings: list[Any] = []

    def describe(self) -> str:
        """Return ``eventlet.monkey_patch(k=v) at file:line``."""
        args = ", ".join(f"{k}={v!r}" for k, v in sorted(self.kwargs.items()))
        return f"eventlet.monkey_patch({args}) at {self.site}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict of the call."""
        return {
            "site": self.site,
            "thread": self.thread,
            "kwargs": {k: repr(v) for k, v in self.kwargs.items()},
            "before": sorted(self.before),
            "after": None if self.after is None else sorted(self.after),
            "mode": self.mode,
        }


#: Every monkey_patch call not made by patchguard (private; tests reset).
calls: list[PatchCall] = []
# True while patchguard itself calls monkey_patch (under _apply's lock).
_own_call = False


def _guard(
    wrapped: Callable[..., Any],
    instance: object,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    if _own_call:
        return wrapped(*args, **kwargs)
    from patchguard import _state

    current = _state.state()
    call = PatchCall(
        _where.user_site(skip_also=("eventlet",)),
        _where.thread_name(),
        dict(kwargs),
        _state.patched_options(),
        current.mode,
    )
    calls.append(call)
    if current.mode == "native":
        raise PatchOrderError(
            f"{call.describe()} in a process patchguard runs in native mode "
            f"(decided_by={current.decided_by}: {current.reason}). Remove "
            f"the call, or choose eventlet mode with PATCHGUARD_MODE=eventlet."
        )
    if current.mode == "unset":
        return _audited_bare_call(call, wrapped, args, kwargs)
    result = wrapped(*args, **kwargs)
    call.after = _state.patched_options()
    if current.mode == "eventlet":
        current.late_patches.append(call)
        from patchguard._detectors import late as _late

        _late.report(call, current)
    return result


def _audited_bare_call(
    call: PatchCall,
    wrapped: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    # A bare monkey_patch() before any bootstrap: patch as asked, but run
    # the same audit the bootstrap would, so ``check`` can name the early
    # threads and stale references of a legacy entry point.
    from patchguard import _state
    from patchguard._decision import policy as _policy
    from patchguard._detectors import audit as _audit

    # eventlet's own rule: any True argument means "only these".
    if any(value is True for value in kwargs.values()):
        options = frozenset(k for k, v in kwargs.items() if v is True)
    else:
        options = frozenset(
            o for o in _policy.DEFAULT_OPTIONS if kwargs.get(o, True)
        )
    probe = _state.PatchState(
        _policy.Decision("eventlet", options, "eventlet.monkey_patch", ""),
        call.site,
        call.thread,
    )
    plan = _audit.before_patch(probe)
    result = wrapped(*args, **kwargs)
    call.after = _state.patched_options()
    _audit.after_patch(probe, plan)
    for finding in probe.findings:
        finding.location = call.site
    call.findings = probe.findings
    return result


def install(eventlet: ModuleType) -> None:
    """Wrap ``eventlet.monkey_patch`` (idempotent).

    :param eventlet: the imported eventlet package.
    """
    if _own_call:
        # patchguard itself is importing eventlet to patch: wrap after.
        return
    import wrapt

    patcher = sys.modules["eventlet.patcher"]
    if isinstance(patcher.monkey_patch, wrapt.FunctionWrapper):
        return
    wrapt.wrap_function_wrapper(patcher, "monkey_patch", _guard)
    # ``eventlet.monkey_patch`` is a second name for the same function.
    eventlet.monkey_patch = patcher.monkey_patch  # type: ignore[attr-defined]


def patch(options: frozenset[str]) -> None:
    """Import eventlet and patch exactly ``options``, then guard it.

    :param options: eventlet option names, e.g. ``{"socket", "time"}``.
    """
    global _own_call
    # The wrapper (and wrapt, and what wrapt imports) is installed only
    # after patching: eventlet's lock upgrade walks every module loaded at
    # that moment, so each module imported before it costs time.
    _own_call = True
    try:
        import eventlet

        eventlet.monkey_patch(**dict.fromkeys(options, True))
    finally:
        _own_call = False
    install(eventlet)
