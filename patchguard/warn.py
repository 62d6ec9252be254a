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


_ACTIONS = ("default", "always", "all", "ignore", "module", "once", "error")


def _category(name: str) -> type[Warning] | None:
    # ``patchguard.X`` and ``patchguard.warn.X`` both name ``X`` here.
    module, _, klass = name.rpartition(".")
    if module not in ("patchguard", "patchguard.warn"):
        return None
    found = globals().get(klass)
    if isinstance(found, type) and found in CATEGORIES:
        return found
    return None


def honour_warnoptions(options: Iterable[str]) -> list[str]:
    """Install the ``-W``/``PYTHONWARNINGS`` filters that name patchguard.

    CPython parses ``sys.warnoptions`` at start-up, before site-packages is
    on ``sys.path``, so ``-W error::patchguard.PartialPatchWarning`` is
    dropped ("Invalid -W option ignored: invalid module name") for an
    installed patchguard.  ``import patchguard`` calls this with
    ``sys.warnoptions`` to add those entries, in the order given, parsed
    as :mod:`warnings` parses them (message and module matched literally,
    actions abbreviable).  Entries that do not name a patchguard category
    are left to CPython.

    :param options: ``-W`` option strings (``action:message:category:
        module:lineno``).
    :returns: one error line per entry that names patchguard but cannot
        be honoured (also written to stderr, as CPython does).
    """
    import re

    problems = []
    for option in options:
        parts = [p.strip() for p in option.split(":")]
        if len(parts) < 3 or not parts[2].startswith("patchguard."):
            continue
        if len(parts) > 5:
            problems.append(f"too many fields: {option!r}")
            continue
        parts += [""] * (5 - len(parts))
        action, message, name, module, lineno = parts
        actions = [a for a in _ACTIONS if a.startswith(action or "default")]
        category = _category(name)
        if not actions:
            problems.append(f"invalid action: {action!r}")
        elif category is None:
            problems.append(
                f"unknown warning category: {name!r}; accepted: "
                + ", ".join(f"patchguard.{c.__name__}" for c in CATEGORIES)
            )
        elif lineno and not (lineno.isdigit()):
            problems.append(f"invalid lineno: {lineno!r}")
        else:
            warnings.filterwarnings(
                "always" if actions[0] == "all" else actions[0],  # type: ignore[arg-type]
                re.escape(message),
                category,
                re.escape(module) + r"\Z" if module else "",
                int(lineno or 0),
            )
    for problem in problems:
        sys.stderr.write(f"Invalid -W option ignored: {problem}\n")
    return problems


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
        warnings.warn_explicit(
            finding.message,
            finding.category,
            frame.f_code.co_filename,
            frame.f_lineno,
            module=module_globals.get("__name__", "<unknown>"),
            registry=module_globals.setdefault("__warningregistry__", {}),
            module_globals=_source_globals(frame),
        )


def _source_globals(frame: FrameType) -> dict[str, object] | None:
    """Return the frame's globals when :mod:`warnings` may use them to
    find the source line, else ``None`` (it then reads the file by name).

    Handing them over is only right for a module whose code *is* this
    frame's file and whose spec names its loader: for ``exec``'d code the
    loader gives another file's source, and CPython indexes its lines with
    the exec'd line number (``IndexError`` in ``warn_explicit``); for
    ``__main__`` (``__spec__`` is ``None``) Python 3.12+ adds a
    ``DeprecationWarning`` about ``__spec__.loader``, fatal under ``-W
    error::DeprecationWarning``; and ``python -m pkg.mod`` runs as
    ``__main__`` with ``pkg.mod``'s loader, which refuses
    ``get_source("__main__")``.  ``__main__`` is therefore always read by
    file name.  Emitting a warning must never break the bootstrap.
    """
    module_globals = frame.f_globals
    loader = module_globals.get("__loader__")
    spec_loader = getattr(module_globals.get("__spec__"), "loader", None)
    filename = module_globals.get("__file__")
    if (
        loader is None
        or module_globals.get("__name__") == "__main__"
        or spec_loader is not loader
        or isinstance(loader, type)  # built-in/frozen: no source to give
        or not hasattr(loader, "get_source")
        or not isinstance(filename, str)
        or frame.f_code.co_filename != filename
    ):
        return None
    return module_globals


def _caller_frame() -> FrameType | None:
    from patchguard import _where

    return _where.user_frame()


def check(expected: Iterable[str] | str | None = None) -> list[Finding]:
    """Return findings for expected eventlet patches that are not in effect.

    The replacement for oslo.utils' deprecated
    ``warn_eventlet_not_patched``: it reads the real objects (see
    :attr:`patchguard.PatchState.patched`), accepts eventlet option names
    (``thread``) or stdlib module names (``threading``) or ``all``, and
    does not demand driver patches (``psycopg``, ``MySQLdb``) for drivers
    the process never imported, so a full patch gives no finding.
    Nothing is expected from a process that patched nothing.

    :param expected: names to expect (a comma string, or a list, tuple or
        set of names); ``None`` means what patchguard asked eventlet for
        (or ``all`` before any bootstrap).
    :returns: one :class:`PartialPatchWarning` finding per missing patch.
    :raises ConfigError: (a :class:`ValueError`) on an unknown name or any
        other type, naming ``expected``, even in an unpatched process.
    """
    from patchguard import _state
    from patchguard._decision import policy as _policy

    # Validated first, whatever the process's state: a bad argument must
    # not hide until the day the process is patched.
    asked = None if expected is None else _expected(expected)
    current = _state.state()
    patched = current.patched
    if not patched:
        return []
    if asked is None:
        wanted = set(current.requested or _policy.DEFAULT_OPTIONS)
    else:
        wanted = asked
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


def _expected(expected: object) -> set[str]:
    """Validate :func:`check`'s ``expected``: a comma string or a list,
    tuple or set of names; anything else raises ConfigError naming it."""
    from patchguard._decision import policy as _policy

    accepted = (
        f"'all', {', '.join(_policy.OPTIONS)} or "
        f"{', '.join(sorted(_ALIASES))}, as a comma string or a list, "
        f"tuple or set of names"
    )
    if isinstance(expected, str):
        names: list[object] = list(expected.split(","))
    elif isinstance(expected, (list, tuple, set, frozenset)):
        names = list(expected)
    else:
        names = []
    wanted: set[str] = set()
    for name in names:
        found = _expand(name.strip()) if isinstance(name, str) else None
        if not found:
            names = []
            break
        wanted |= found
    if not names:
        from patchguard._errors import ConfigError

        raise ConfigError(
            f"check(expected={_policy.show(expected)}) is not valid; "
            f"accepted values: {accepted}"
        )
    return wanted


def _expand(name: str) -> set[str] | None:
    from patchguard._decision import policy as _policy

    if name.lower() == "all":
        return set(_policy.DEFAULT_OPTIONS)
    option = _ALIASES.get(name, name)
    for known in _policy.OPTIONS:
        if known.lower() == option.lower():
            return {known}
    return None


def warn_if_unpatched(modules: Iterable[str] | str) -> list[Finding]:
    """Warn (at the caller's line) for each expected patch not in effect.

    :param modules: option or module names, as for :func:`check`.
    :returns: the findings that were emitted.
    """
    findings = check(modules)
    emit(findings, _caller_frame())
    return findings
