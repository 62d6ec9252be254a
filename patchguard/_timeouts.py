"""Timeouts: the stdlib's rules for them, and timers safe for the hub.

Two jobs (issue 11 §2):

* Check a ``timeout`` argument exactly as the stdlib counterpart does
  (``threading.RLock.acquire``, ``queue.Queue.get``, ``Thread.join``):
  accept what it accepts and refuse the rest with the same exception
  type, and a message naming the argument.
* Never hand eventlet's hub a timer it cannot handle.  A timer past ~24.8
  days (2**31 - 1 ms) becomes the hub's next wake-up and makes every later
  ``epoll.poll()`` raise ``OverflowError``; an infinite one does so at
  once, failing unrelated greenthreads.  Waits longer than
  :data:`HUB_MAX` are made of re-armed timers.
"""

from __future__ import annotations

import math
import operator
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType


def _real_thread_module() -> ModuleType:
    """Return the unpatched ``_thread`` module.

    After patching, ``_thread``'s attributes are eventlet's;
    ``patcher.original`` re-imports the builtin module, whose functions
    are the C ones.
    """
    patcher = sys.modules.get("eventlet.patcher")
    if patcher is not None:
        real: ModuleType = patcher.original("_thread")
        return real
    import _thread

    return _thread


#: Longest timer handed to an eventlet hub, in seconds.  A timer past
#: ~24.8 days (2**31 - 1 ms) becomes the hub's next wake-up and makes
#: every later ``epoll.poll()``/``poll()`` raise ``OverflowError``, and an
#: infinite one does the same at once (issue 11 §2); longer waits re-arm.
HUB_MAX = 86400.0


def hub_seconds(seconds: float) -> float:
    """Return ``seconds`` made safe for a hub timer: in ``[0, HUB_MAX]``.

    :param seconds: a finite or infinite number of seconds (not NaN).
    :returns: the delay to schedule; a caller whose wait is longer than
        :data:`HUB_MAX` must check its deadline and wait again.
    """
    return min(max(seconds, 0.0), HUB_MAX)


#: The longest timeout the stdlib's locks accept, in seconds.
TIMEOUT_MAX: float = _real_thread_module().TIMEOUT_MAX
# Floats are converted to int64 nanoseconds by the C locks: beyond this
# they raise OverflowError before any other check.
_NS_LIMIT = 2**63 / 1e9


def _seconds(name: str, value: object) -> float:
    # What CPython's _PyTime_FromSecondsObject accepts: a float, or an
    # int (anything with __index__); refused with the same types.
    if isinstance(value, float):
        if math.isnan(value):
            raise ValueError(f"{name} must be a number of seconds, not nan")
        seconds = value
    else:
        try:
            seconds = float(operator.index(value))  # type: ignore[arg-type]
        except TypeError:
            raise TypeError(
                f"{name} must be a number of seconds, not "
                f"{type(value).__name__} {shorten(value)}"
            ) from None
    if not -_NS_LIMIT < seconds < _NS_LIMIT:
        raise OverflowError(f"{name} value is too large: {value!r}")
    return seconds


def shorten(value: object) -> str:
    """Return ``repr(value)`` cut to ~100 characters, with its length."""
    shown = repr(value)
    if len(shown) <= 100:
        return shown
    return f"{shown[:100]}... ({len(shown)} characters)"


def lock_timeout(blocking: object, timeout: object) -> float | None:
    """Check ``acquire(blocking, timeout)`` as ``threading.RLock`` does.

    :param blocking: any object (its truth value counts).
    :param timeout: seconds, ``-1`` for no limit.
    :returns: ``None`` to wait forever, ``0.0`` to try once, else seconds.
    :raises TypeError: for a timeout that is not a number.
    :raises ValueError: for NaN, a negative timeout other than ``-1``, or
        a timeout given to a non-blocking call.
    :raises OverflowError: for a timeout over ``threading.TIMEOUT_MAX``.
    """
    seconds = _seconds("timeout", timeout)
    unset = seconds == -1
    if not blocking and not unset:
        raise ValueError("can't specify a timeout for a non-blocking call")
    if seconds < 0 and not unset:
        raise ValueError(
            f"timeout value must be positive (or -1), not {timeout!r}"
        )
    if not blocking:
        return 0.0
    if unset:
        return None
    if seconds > TIMEOUT_MAX:
        raise OverflowError(f"timeout value is too large: {timeout!r}")
    return seconds


def as_seconds(timeout: object, prefix: str = "") -> float:
    """Return ``0.0 + timeout``: the stdlib's own test of a timeout.

    ``subprocess`` computes ``monotonic() + timeout`` and ``queue``
    compares it with 0, so what they accept is what float addition
    accepts (int, float, bool, Fraction; not str, bytes or Decimal).

    :param timeout: the caller's value (not None).
    :param prefix: put before the message (e.g. the module's name).
    :returns: the seconds as a float (maybe NaN or infinite).
    :raises TypeError: naming ``timeout`` and quoting the value.
    """
    try:
        seconds = 0.0 + timeout  # type: ignore[operator]
    except TypeError:
        seconds = None
    if not isinstance(seconds, float):
        raise TypeError(
            f"{prefix}timeout must be None or a number of seconds, not "
            f"{type(timeout).__name__} {shorten(timeout)}"
        )
    return seconds


def wait_timeout(timeout: object, clamp: bool) -> float | None:
    """Check a ``timeout`` as ``queue.Queue.get`` / ``Thread.join`` do.

    NaN passes here and is refused by :func:`check_wait_length` once a
    wait is needed: the stdlib returns an available item or a finished
    thread's join without looking at it (``Queue.get`` would then spin
    forever, ``Thread.join`` raises ``ValueError``).

    :param timeout: ``None`` or seconds.
    :param clamp: negative means 0 (``Thread.join``); else refused
        (``Queue.get``).
    :returns: ``None`` to wait forever, else seconds (>= 0, or NaN).
    :raises TypeError: for a timeout that is not a number.
    :raises ValueError: for a negative timeout unless ``clamp``.
    """
    if timeout is None:
        return None
    seconds = as_seconds(timeout)
    if seconds < 0:
        if not clamp:
            raise ValueError("'timeout' must be a non-negative number")
        seconds = 0.0
    return seconds


def check_wait_length(seconds: float | None) -> None:
    """Refuse a wait the stdlib's locks cannot make.

    :raises ValueError: for NaN.
    :raises OverflowError: past ``threading.TIMEOUT_MAX`` (``inf`` too).
    """
    if seconds is not None and math.isnan(seconds):
        raise ValueError("timeout must be a number of seconds, not nan")
    if seconds is not None and seconds > TIMEOUT_MAX:
        raise OverflowError(f"timeout value is too large: {seconds!r}")
