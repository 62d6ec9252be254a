"""Show a target's uncaught exception as Python would, minus patchguard.

``patchguard run`` sits between the interpreter and the target, so an
exception escaping the target would carry patchguard's and runpy's
frames on top of the target's own.  :func:`show` cuts them (and the
frames of patchguard's hooks the target called into, such as the
:class:`~patchguard.PatchOrderError` raised for a late
``eventlet.monkey_patch()``) and hands the rest to ``sys.excepthook``,
which the target may have replaced (oslo.log does).
"""

from __future__ import annotations

import os
import sys

from patchguard import _where

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType


def _ours(tb: TracebackType) -> bool:
    name = tb.tb_frame.f_code.co_filename
    return _where.is_internal(name) or os.path.basename(name) == "runpy.py"


def _trim(tb: TracebackType | None) -> TracebackType | None:
    while tb is not None and _ours(tb):
        tb = tb.tb_next
    # Cut the tail after the last frame of the target's (or its
    # libraries'): what follows is patchguard's hooks or the import
    # machinery, and the error is reported at the line that called them.
    last, cursor = tb, tb
    while cursor is not None:
        if not _ours(cursor):
            last = cursor
        cursor = cursor.tb_next
    if last is not None:
        last.tb_next = None
    return tb


def show(exc: BaseException) -> None:
    """Print ``exc`` through ``sys.excepthook`` without our frames.

    :param exc: the exception that escaped the target.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.__traceback__ = _trim(current.__traceback__)
        current = current.__cause__ or current.__context__
    sys.excepthook(type(exc), exc, exc.__traceback__)


def die_by_sigint() -> None:
    """End the process as an uncaught ``KeyboardInterrupt`` does.

    Python exits through the default SIGINT action, so a parent shell
    sees "killed by SIGINT" and stops its own loop.
    """
    import signal

    sys.stdout.flush()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)
