"""Who imported eventlet: the import chain of its first import.

From the first ``import patchguard`` a pre-import check (on
:mod:`patchguard._hooks.importhook`'s finder) watches for the top-level
``eventlet`` import.  It never finds anything itself; it only looks at
the stack while the import is being resolved, which is the whole
chain from the user's code down to the library that asked
(``svc/cmd/api.py:3 -> oslo_concurrency/lockutils.py:12 -> eventlet``).

* Before any decision the chain is only remembered: a later native
  bootstrap reports it.
* In native mode the first import becomes an
  :class:`~patchguard.EventletImportWarning` (once, in
  ``state().findings``, ``report`` and ``check``), unless the importer is
  listed in ``PATCHGUARD_ALLOW_EVENTLET``.  With ``PATCHGUARD_STRICT`` the
  import fails with :class:`ImportError` naming the chain: the precise
  form of nova's ``poison_eventlet`` (whose message is "This is a bug").
  Libraries that only probe (``try: import eventlet``) fall back cleanly.

Only ``sys`` and ``os`` are used: this runs on the native fast path.
"""

from __future__ import annotations

import os
import sys

from patchguard import _where
from patchguard._hooks import importhook as _importhook

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType

    from patchguard.warn import Finding

#: the first import's chain, innermost last (private; tests reset it).
chain: list[str] = []
#: module name of the code that imported eventlet first.
importer: str | None = None
_reported = False
# >0 while patchguard selects oslo.service's THREADING backend in native
# mode: eventlet imports then fail quietly, as they do under nova's poison.
_refusing = 0


class refused:  # noqa: N801 - used like a function: ``with refused():``
    """Refuse eventlet imports (quietly) inside the ``with`` block."""

    def __enter__(self) -> None:
        global _refusing
        _refusing += 1

    def __exit__(self, *exc: object) -> None:
        global _refusing
        _refusing -= 1


def _short(filename: str) -> str:
    # Name files as their import path does: "oslo_concurrency/lockutils.py"
    # rather than a site-packages path nobody can read in a log line.
    best = ""
    for entry in sys.path:
        if not entry:
            continue
        prefix = os.path.abspath(entry) + os.sep
        if filename.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return filename[len(best) :] if best else filename


#: generic import helpers: the importer is the code that called them.
_HELPERS = (
    os.sep + os.path.join("importlib", "__init__.py"),
    os.sep + os.path.join("oslo_utils", "importutils.py"),
)


def _walk(frame: FrameType | None) -> tuple[list[str], str | None]:
    """Return the chain (outermost first) and the importer's module."""
    links: list[str] = []
    first: str | None = None
    innermost = True
    while frame is not None:
        code = frame.f_code
        name = code.co_filename
        if not (
            _where.is_internal(name)
            or code in _where.launchers
            or name.endswith(_HELPERS)
            # the ``patchguard`` console script's own wrapper
            or os.path.basename(name) == "patchguard"
        ):
            # Module bodies are the import chain; the innermost frame is
            # the importer even when it imports inside a function.
            if innermost or code.co_name == "<module>":
                links.append(f"{_short(name)}:{frame.f_lineno}")
            if innermost:
                first = str(frame.f_globals.get("__name__", "?"))
                innermost = False
        frame = frame.f_back
    links.reverse()
    return links, first


def describe() -> str:
    """Return ``a.py:1 -> b.py:2 -> eventlet`` for the recorded import."""
    return " -> ".join([*chain, "eventlet"])


def _allowed(name: str | None, allow: frozenset[str]) -> bool:
    if name is None:
        return False
    return any(name == a or name.startswith(a + ".") for a in allow)


def finding_now() -> Finding | None:
    """Return the :class:`~patchguard.EventletImportWarning` finding for
    the recorded import, once, or ``None`` (nothing recorded, already
    reported, or the importer is allowed).

    :returns: a :class:`~patchguard.warn.Finding` or ``None``.
    """
    global _reported
    from patchguard import _state

    current = _state.state()
    if _reported or not chain or _allowed(importer, current.allow_eventlet):
        return None
    _reported = True
    from patchguard import warn

    return warn.Finding(
        warn.EventletImportWarning,
        f"eventlet imported in native mode (decided_by="
        f"{current.decided_by}): {describe()}. Native code must not "
        f"depend on eventlet; a library that imports it only to probe is "
        f"harmless. Fix: remove or guard the import in {importer}, or "
        f"list the importer in PATCHGUARD_ALLOW_EVENTLET={importer} if it "
        f"never uses eventlet.",
        chain[-1] if chain else None,
    )


def _check() -> None:
    """Run while ``import eventlet`` is being resolved (see
    :func:`patchguard._hooks.importhook.before_import`)."""
    global importer
    if "eventlet" in sys.modules:
        return
    if _refusing:
        raise ImportError(
            "eventlet refused while patchguard selects oslo.service's "
            "THREADING backend in native mode",
            name="eventlet",
        )
    from patchguard import _state

    current = _state.state()
    links, who = _walk(sys._getframe(1))
    if not chain:
        chain[:] = links
        importer = who
    if current.mode != "native":
        return
    if current.strict and not _allowed(who, current.allow_eventlet):
        # Every refused attempt names its own chain: the next importer
        # may be a different library.
        raise ImportError(
            f"PATCHGUARD_STRICT: eventlet may not be imported in native "
            f"mode (decided_by={current.decided_by}); imported by "
            f"{' -> '.join([*links, 'eventlet'])}. Fix: remove or guard "
            f"the import in {who}, or allow it with "
            f"PATCHGUARD_ALLOW_EVENTLET={who}.",
            name="eventlet",
        )
    found = finding_now()
    if found is not None:
        from patchguard import warn

        current.findings.append(found)
        warn.emit([found], _importer_frame())


def _importer_frame() -> FrameType | None:
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and _where.is_internal(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


_watching = False


def watch() -> None:
    """Watch ``import eventlet`` from now on (idempotent)."""
    global _watching
    if _watching or "eventlet" in sys.modules:
        return
    _watching = True
    _importhook.before_import("eventlet", _check)
