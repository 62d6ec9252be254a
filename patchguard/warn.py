"""Warning categories, findings, and the one place findings become warnings.

Detectors return :class:`Finding` records and never warn themselves.  While
the bootstrap patches, findings are queued; once patching is over they are
emitted with :func:`warnings.warn_explicit` *at the user's line* (the
``import patchguard.bootstrap`` in their ``cmd/__init__.py``), so that
``-W error::patchguard.EarlyThreadWarning``, pytest's ``filterwarnings`` and
the printed location all point at code the user owns.

Every message says what is wrong, names the culprit and gives the fix.
"""

from __future__ import annotations

import sys
import warnings

from patchguard._record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import FrameType


class PatchGuardWarning(RuntimeWarning):
    """Root of every patchguard warning."""


class EarlyThreadWarning(PatchGuardWarning):
    """Threads were already running when eventlet patched the process."""


class StaleReferenceWarning(PatchGuardWarning):
    """A module holds a native object that blocks the hub: one patching
    replaced (``from time import sleep`` before patching), or one patching
    cannot make green (a ``multiprocessing`` lock or queue)."""


class LatePatchWarning(PatchGuardWarning):
    """``eventlet.monkey_patch()`` ran after the bootstrap, or off-main."""


class PartialPatchWarning(PatchGuardWarning):
    """Some modules are green and others native: locks can deadlock."""


class DebuggerWarning(PatchGuardWarning):
    """eventlet patching under a debugger, whose threads it breaks."""


class UnpatchedDriverWarning(PatchGuardWarning):
    """A database driver blocks the hub: imported but not made green."""


class WSGIHostWarning(PatchGuardWarning):
    """eventlet mode forced inside a WSGI server: green work starves."""


class ForkWarning(PatchGuardWarning):
    """fork() would duplicate greenthreads or strand native threads."""


class EventletImportWarning(PatchGuardWarning):
    """eventlet was imported in native mode; names the import chain."""


class SpawnWarning(PatchGuardWarning):
    """An object a spawned worker needs does not pickle (so it forks)."""


class BackendMismatchWarning(PatchGuardWarning):
    """oslo.service's backend or oslo.messaging's executor disagrees with
    the process's mode."""


CATEGORIES = (
    PatchGuardWarning,
    EarlyThreadWarning,
    StaleReferenceWarning,
    LatePatchWarning,
    PartialPatchWarning,
    DebuggerWarning,
    UnpatchedDriverWarning,
    WSGIHostWarning,
    ForkWarning,
    EventletImportWarning,
    SpawnWarning,
    BackendMismatchWarning,
)


class Finding(Record):
    """One hazard: what is wrong, who is to blame, where, and the fix.

    :ivar category: the warning class it becomes.
    :ivar message: the full text (culprit and fix included).
    :ivar location: ``file:line`` the warning is reported at, if known.
    """

    __slots__ = ("category", "message", "location")

    def __init__(
        self,
        category: type[PatchGuardWarning],
        message: str,
        location: str | None = None,
    ) -> None:
        self.category = category
        self.message = message
        self.location = location

    def to_dict(self) -> dict[str, str | None]:
        """Return ``{"category", "message", "location"}`` as plain strings.

        :returns: a JSON-serialisable dict.
        """
        return {
            "category": self.category.__name__,
            "message": self.message,
            "location": self.location,
        }

    def describe(self) -> str:
        """Return ``Category [file:line]: message``."""
        where = f" [{self.location}]" if self.location else ""
        return f"{self.category.__name__}{where}: {self.message}"


def emit(findings: Iterable[Finding], frame: FrameType | None) -> None:
    """Turn findings into warnings reported at ``frame``'s line.

    :param findings: the findings, in order.
    :param frame: the user's frame; ``None`` reports at patchguard itself.
    """
    for finding in findings:
        if frame is None:
            warnings.warn(finding.message, finding.category, stacklevel=2)
            continue
        module_globals = frame.f_globals
        loader = module_globals.get("__loader__")
        # ``python -c`` code has a built-in loader that cannot give source;
        # warnings would fail looking for it.
        source_globals = (
            module_globals
            if hasattr(loader, "get_source")
            and not isinstance(loader, type)
            # ``python -m pkg.mod`` runs as __main__ with pkg.mod's loader,
            # which refuses get_source("__main__"): read the file instead.
            and not (
                module_globals.get("__name__") == "__main__"
                and module_globals.get("__spec__") is not None
            )
            else None
        )
        warnings.warn_explicit(
            finding.message,
            finding.category,
            frame.f_code.co_filename,
            frame.f_lineno,
            module=module_globals.get("__name__", "<unknown>"),
            registry=module_globals.setdefault("__warningregistry__", {}),
            module_globals=source_globals,
        )


def _caller_frame() -> FrameType | None:
    from patchguard import _where

    return _where.user_frame()


def check(expected: Iterable[str] | None = None) -> list[Finding]:
    """Return findings for expected eventlet patches that are not in effect.

    The replacement for oslo.utils' deprecated
    ``warn_eventlet_not_patched``: it reads the real objects (see
    :attr:`patchguard.PatchState.patched`), accepts eventlet option names
    (``thread``) or stdlib module names (``threading``) or ``all``, and
    does not demand driver patches (``psycopg``, ``MySQLdb``) for drivers
    the process never imported, so a full patch gives no finding.
    Nothing is expected from a process that patched nothing.

    :param expected: names to expect; ``None`` means what patchguard asked
        eventlet for (or ``all`` before any bootstrap).
    :returns: one :class:`PartialPatchWarning` finding per missing patch.
    """
    from patchguard import _state
    from patchguard._decision import policy as _policy

    current = _state.state()
    patched = current.patched
    if not patched:
        return []
    if expected is None:
        wanted = set(current.requested or _policy.DEFAULT_OPTIONS)
    else:
        wanted = set()
        for name in expected:
            wanted |= _expand(name)
    drivers = {"psycopg": "psycopg2", "MySQLdb": "MySQLdb"}
    findings = []
    for option in sorted(wanted - patched):
        driver = drivers.get(option)
        if driver is not None and driver not in sys.modules:
            continue
        if option == "builtins" and "builtins" not in wanted:
            continue
        findings.append(
            Finding(
                PartialPatchWarning,
                f"eventlet patched {','.join(sorted(patched))} but not "
                f"{option!r}: code using it blocks the hub or mixes green "
                f"and native locks. Fix: patch it too (PATCHGUARD_PATCH="
                f"all) or run native (PATCHGUARD_MODE=native).",
            )
        )
    return findings


_ALIASES = {
    "threading": "thread",
    "_thread": "thread",
    "queue": "thread",
    "ssl": "socket",
    "selectors": "select",
    "__builtin__": "builtins",
    "psycopg2": "psycopg",
}


def _expand(name: str) -> set[str]:
    from patchguard._decision import policy as _policy

    if name.lower() == "all":
        return set(_policy.DEFAULT_OPTIONS)
    option = _ALIASES.get(name, name)
    for known in _policy.OPTIONS:
        if known.lower() == option.lower():
            return {known}
    raise ValueError(
        f"check(expected=...): unknown module {name!r}; accepted: 'all', "
        f"{', '.join(_policy.OPTIONS)} or {', '.join(sorted(_ALIASES))}"
    )


def warn_if_unpatched(modules: Iterable[str]) -> list[Finding]:
    """Warn (at the caller's line) for each expected patch not in effect.

    :param modules: option or module names, as for :func:`check`.
    :returns: the findings that were emitted.
    """
    findings = check(list(modules))
    emit(findings, _caller_frame())
    return findings
