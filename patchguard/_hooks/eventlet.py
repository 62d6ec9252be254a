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
from patchguard._detectors.late import PatchCall
from patchguard._errors import PatchOrderError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any


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
    # the very audit the bootstrap runs (early threads, stale references,
    # partial patch, debugger, drivers, WSGI host, off-main), record what
    # it found in the state every surface reads, and warn at the caller's
    # line, exactly as the bootstrap would.
    import os

    from patchguard import _state, warn
    from patchguard._decision import debugger as _debugger
    from patchguard._decision import hosts as _hosts
    from patchguard._decision import policy as _policy
    from patchguard._detectors import audit as _audit

    # eventlet's own rule: any True argument means "only these".
    if any(value is True for value in kwargs.values()):
        options = frozenset(k for k, v in kwargs.items() if v is True)
    else:
        options = frozenset(
            o for o in _policy.DEFAULT_OPTIONS if kwargs.get(o, True)
        )
    strict = _policy.parse_flag(
        _policy.STRICT_VAR, os.environ.get(_policy.STRICT_VAR)
    )
    probe = _state.PatchState(
        _policy.Decision(
            "eventlet",
            options,
            "eventlet.monkey_patch",
            f"a bare {call.describe()} patched the process outside patchguard",
            wsgi_host=_hosts.wsgi_host(),
            debugger=_debugger.detect(),
            strict=bool(strict),
        ),
        call.site,
        call.thread,
    )
    result = _audit.run(probe, lambda: wrapped(*args, **kwargs))
    call.after = _state.patched_options()
    for finding in probe.findings:
        finding.location = call.site
    call.findings = probe.findings
    current = _state.state()
    if current.mode == "unset":
        # patchguard decided nothing (the mode stays "unset"), but the
        # state says who patched, and holds what the audit found.
        current.decided_by = current.decided_by or probe.decided_by
        current.site = current.site or call.site
        current.thread = current.thread or call.thread
        current.reason = probe.reason
        current.early_threads.extend(probe.early_threads)
        current.stale_refs.extend(probe.stale_refs)
        current.foreign_threads = probe.foreign_threads
        current.findings.extend(probe.findings)
    warn.emit(probe.findings, _where.user_frame(skip_also=("eventlet",)))
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


def load() -> None:
    """Import eventlet for the bootstrap, its warnings at the user's line.

    eventlet warns that it is deprecated when first imported, with
    ``stacklevel=2``: the importer's line.  Imported by the bootstrap,
    that line would be patchguard's, or ``importlib/__init__.py`` when
    the first import goes through ``import_module``.  The warning is
    re-issued at the line that imported the bootstrap, through the
    normal filters (``-W ignore::...`` and ``-W error::...`` still
    apply).  Other warnings raised while importing keep their place.
    """
    if "eventlet" in sys.modules:
        return
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import eventlet  # noqa: F401
    site = _where.user_frame()
    for item in caught:
        if (
            site is not None
            and item.category.__name__ == "EventletDeprecationWarning"
        ):
            scope = site.f_globals
            warnings.warn_explicit(
                item.message,
                item.category,
                site.f_code.co_filename,
                site.f_lineno,
                module=scope.get("__name__"),
                registry=scope.setdefault("__warningregistry__", {}),
            )
        else:
            warnings.warn_explicit(
                item.message, item.category, item.filename, item.lineno
            )


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
