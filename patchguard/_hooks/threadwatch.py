"""Remember where each thread was started.

From the first ``import patchguard`` a post-import hook wraps
``threading.Thread.start`` so every thread carries the ``file:line`` of the
code that started it.  When the bootstrap later finds threads running
before it patched, or the pytest plugin finds a thread a test leaked, it
can name the line instead of just the thread.

The wrapper is a plain function, not a wrapt wrapper: it must be installed
on the native fast path, where wrapt's import cost is not affordable, and
it runs on every thread start, where each microsecond shows.
"""

from __future__ import annotations

import os
import sys

from patchguard import _where
from patchguard._hooks import importhook as _importhook

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType

#: attribute set on each started ``threading.Thread``.
SITE_ATTR = "_patchguard_started_at"

_STDLIB = os.path.dirname(os.__file__) + os.sep
#: filename → is it the standard library?  Bounded by the source files.
_stdlib_cache: dict[str, bool] = {}


def _is_stdlib(filename: str) -> bool:
    known = _stdlib_cache.get(filename)
    if known is None:
        known = filename.startswith(_STDLIB) and not (
            "site-packages" in filename or "dist-packages" in filename
        )
        _stdlib_cache[filename] = known
    return known


def _wrap(threading: ModuleType) -> None:
    thread_cls = threading.Thread
    original = thread_cls.start
    if getattr(original, "_patchguard_original", None) is not None:
        return

    getframe = sys._getframe
    culprit = _where.culprit

    def start(self: object) -> None:
        # Cheap on purpose (it runs on every thread start): a short frame
        # walk with cached verdicts, and a tuple formatted only when read.
        found = culprit(getframe(1))
        if found is not None:
            self.__dict__[SITE_ATTR] = found
        original(self)

    start._patchguard_original = original  # type: ignore[attr-defined]
    start.__doc__ = original.__doc__
    start.__name__ = original.__name__
    start.__qualname__ = original.__qualname__
    thread_cls.start = start


def watch() -> None:
    """Install the watch now, or when ``threading`` is first imported."""
    _importhook.when_imported("threading", _wrap)


def unwatch() -> None:
    """Remove the watch (for the benchmark's "without" side and tests)."""
    threading = sys.modules.get("threading")
    _importhook._hooks.pop("threading", None)
    if threading is None:
        return
    original = getattr(threading.Thread.start, "_patchguard_original", None)
    if original is not None:
        threading.Thread.start = original


def started_at(thread: object) -> str | None:
    """Return where ``thread`` was started, if patchguard was watching.

    :param thread: a ``threading.Thread``.
    :returns: ``file:line``, with ``(via lib/file.py:line)`` when a
        library started it for that line, or ``None``.
    """
    site = getattr(thread, SITE_ATTR, None)
    if isinstance(site, tuple):
        return _where.describe(site)
    return None
