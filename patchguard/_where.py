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
_SKIP_PREFIXES = ("<frozen importlib", "<frozen runpy")


#: filename → is it internal?  Bounded by the number of source files.
_internal_cache: dict[str, bool] = {}


def is_internal(filename: str) -> bool:
    """Return True for frames that are never "the user" (cached)."""
    known = _internal_cache.get(filename)
    if known is None:
        known = (
            filename.startswith(_SKIP_PREFIXES)
            or os.path.abspath(filename).startswith(_PACKAGE_DIR)
            # wrapt's pure-Python wrappers add a frame of their own.
            or os.sep + "wrapt" + os.sep in filename
        )
        _internal_cache[filename] = known
    return known


def user_frame(skip_also: tuple[str, ...] = ()) -> FrameType | None:
    """Return the innermost frame that belongs to the user's code.

    :param skip_also: extra filename fragments to skip (for example
        eventlet's own package when looking for who called it).
    :returns: the frame, or ``None`` when every frame is internal.
    """
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if not is_internal(name) and not any(s in name for s in skip_also):
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
        return "<unknown>"
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
