"""Find the user's line of code behind a call into patchguard.

Warnings and decisions are reported at the line the user wrote (their
``import patchguard.bootstrap`` or their ``eventlet.monkey_patch()``), never
inside patchguard or the import machinery.  Only ``sys`` and ``os`` are used:
this runs on the bootstrap's native fast path.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

# Frames that are never "the user": the import machinery (frozen modules
# named ``<frozen importlib._bootstrap>``), patchguard itself, and the
# wrappers eventlet calls go through.
_SKIP_PREFIXES = ("<frozen importlib", "<frozen runpy", "<patchguard ")
#: the file name patchguard's import hook is compiled under (see
#: :mod:`patchguard._hooks.importhook`): import machinery, never the user.
HOOK_FILENAME = "<patchguard importlib._bootstrap hook>"
#: the test runner calls the plugin's bootstrap: never "the user" either
#: (a strict report naming ``pluggy/_callers.py`` blames nobody).
_RUNNERS = ("_pytest", "pytest", "pluggy")
_STDLIB_DIR = os.path.dirname(os.path.abspath(os.__file__)) + os.sep
#: the import and ``-m`` machinery as plain source files: Python 3.10 runs
#: ``runpy`` from ``runpy.py`` (3.11 freezes it as ``<frozen runpy>``), and
#: ``importlib.import_module`` lives in ``importlib/__init__.py`` on all.
_MACHINERY_FILES = (
    _STDLIB_DIR + "runpy.py",
    _STDLIB_DIR + "importlib" + os.sep + "__init__.py",
)
_LIBRARY_MARKS = (
    os.sep + "site-packages" + os.sep,
    os.sep + "dist-packages" + os.sep,
)
#: what a frame is, for :func:`culprit`.
INTERNAL, PLATFORM, LIBRARY, USER = 0, 1, 2, 3

#: what is running patchguard when no user frame exists (the pytest
#: plugin sets ``"pytest --patchguard-bootstrap"`` while it bootstraps).
entry: str | None = None

#: code objects of patchguard's own launchers compiled from a string
#: (``check`` starts its probe with ``python -c``): their ``<string>``
#: frame is never the user, though a user's own ``python -c`` is.
launchers: set[object] = set()

#: filename → is it internal?  Bounded by the number of source files.
_internal_cache: dict[str, bool] = {}
#: filename → INTERNAL/PLATFORM/LIBRARY/USER.
_kind_cache: dict[str, int] = {}


def _runner_dirs() -> tuple[str, ...]:
    dirs = []
    for name in _RUNNERS:
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        if path:
            dirs.append(os.path.dirname(os.path.abspath(path)) + os.sep)
    return tuple(dirs)


def is_internal(filename: str) -> bool:
    """Return True for frames that are never "the user" (cached)."""
    known = _internal_cache.get(filename)
    if known is None:
        if filename.startswith(_SKIP_PREFIXES):
            known = True
        else:
            path = os.path.abspath(filename)
            known = (
                path.startswith(_PACKAGE_DIR)
                or path in _MACHINERY_FILES
                # wrapt's pure-Python wrappers add a frame of their own.
                or os.sep + "wrapt" + os.sep in filename
                or path.startswith(_runner_dirs())
            )
        _internal_cache[filename] = known
    return known


def kind(filename: str) -> int:
    """Classify a frame's file for :func:`culprit` (cached).

    :param filename: a code object's ``co_filename``.
    :returns: :data:`INTERNAL` (patchguard, import machinery, the test
        runner), :data:`PLATFORM` (the standard library, eventlet,
        greenlet: they act for someone else), :data:`LIBRARY` (an
        installed distribution under ``site-packages``) or :data:`USER`.
    """
    known = _kind_cache.get(filename)
    if known is not None:
        return known
    if is_internal(filename):
        known = INTERNAL
    elif filename.startswith("<") or any(
        os.sep + top + os.sep in filename for top in ("eventlet", "greenlet")
    ):
        known = PLATFORM
    elif any(mark in filename for mark in _LIBRARY_MARKS):
        known = LIBRARY
    elif os.path.abspath(filename).startswith(_STDLIB_DIR):
        known = PLATFORM
    else:
        known = USER
    _kind_cache[filename] = known
    return known


#: ``(user file, user line, library file or None, library line)``.
Culprit = tuple[str, int, "str | None", int]


def culprit_frames(
    frame: FrameType | None,
) -> tuple[FrameType | None, FrameType | None]:
    """Return ``(user frame, library frame)`` for :func:`culprit`.

    :param frame: the innermost frame to consider.
    :returns: the user's frame (or the library's when no user frame is
        on the stack) and the library frame that acted for it, if any.
    """
    library: FrameType | None = None
    while frame is not None:
        found = kind(frame.f_code.co_filename)
        if found == USER:
            return frame, library
        if found == LIBRARY and library is None:
            library = frame
        frame = frame.f_back
    return library, None


def culprit(frame: FrameType | None) -> Culprit | None:
    """Find who did it: the user's frame and the library frame inside it.

    Walks outward from ``frame`` past patchguard, the standard library and
    eventlet.  The first frame left is the one that acted; when it belongs
    to an installed library, the walk goes on to the user's frame that
    called into it (``app/db.py:6`` via ``pymongo/periodic_executor.py``).
    Cheap on purpose (thread starts call it): verdicts are cached per file
    and nothing is formatted until :func:`describe` is called.

    :param frame: the innermost frame to consider.
    :returns: the raw culprit, or ``None`` when no frame qualifies.
    """
    user, library = culprit_frames(frame)
    if user is None:
        return None
    if library is None:
        return (user.f_code.co_filename, user.f_lineno, None, 0)
    return (
        user.f_code.co_filename,
        user.f_lineno,
        library.f_code.co_filename,
        library.f_lineno,
    )


def short_path(filename: str) -> str:
    """Return a library file relative to its ``site-packages`` directory.

    :param filename: an absolute or relative file name.
    :returns: e.g. ``pymongo/periodic_executor.py``; other files unchanged.
    """
    for mark in _LIBRARY_MARKS:
        at = filename.rfind(mark)
        if at >= 0:
            return filename[at + len(mark) :]
    return filename


def describe(found: Culprit | None) -> str | None:
    """Format a :func:`culprit` as ``file:line (via lib/file.py:line)``.

    :param found: the raw culprit, or ``None``.
    :returns: the text, or ``None`` for ``None``.
    """
    if found is None:
        return None
    user_file, user_line, lib_file, lib_line = found
    text = f"{short_path(user_file)}:{user_line}"
    if lib_file is not None:
        text += f" (via {short_path(lib_file)}:{lib_line})"
    return text


def caller_site(depth: int = 1) -> str | None:
    """Return :func:`describe` of the caller's culprit.

    :param depth: frames to go up from the caller of this function.
    :returns: ``file:line (via ...)``, or ``None``.
    """
    return describe(culprit(sys._getframe(depth + 1)))


def user_frame(skip_also: tuple[str, ...] = ()) -> FrameType | None:
    """Return the innermost frame that belongs to the user's code.

    :param skip_also: extra filename fragments to skip (for example
        eventlet's own package when looking for who called it).
    :returns: the frame, or ``None`` when every frame is internal.
    """
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if (
            not is_internal(name)
            and not any(s in name for s in skip_also)
            and frame.f_code not in launchers
        ):
            return frame
        frame = frame.f_back
    return None


def user_site(skip_also: tuple[str, ...] = ()) -> str:
    """Return ``file:line`` of the user's code, or ``"<unknown>"``.

    :param skip_also: extra filename fragments to skip.
    :returns: a ``path:lineno`` string.
    """
    frame = user_frame(skip_also)
    if frame is None:
        return entry or "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def thread_name() -> str:
    """Return the calling thread's name without importing threading.

    :returns: the name, or ``"MainThread"`` when :mod:`threading` was never
        imported (no thread can have been started through it).
    """
    threading = sys.modules.get("threading")
    if threading is None:
        return "MainThread"
    return str(threading.current_thread().name)
