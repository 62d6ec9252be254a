"""Argument checks for :mod:`patchguard.subproc`: the stdlib's answers.

Every public callable takes the same arguments as its stdlib (or
``processutils``) counterpart and either behaves the same or refuses
them with the same exception type and a message naming the argument
(issue 11 §2).  What the stdlib does, and what is done here:

======================  ==============================  ====================
``timeout``             stdlib ``subprocess``           here
======================  ==============================  ====================
``None``                no limit                        same
0, tiny, negative       ``TimeoutExpired`` unless the   same
                        child is already done
``True``/``False``      1 s / 0 s (bool is an int)      same
``inf``                 no limit without pipes,         no limit
                        ``OverflowError`` with them
> ~24.8 days            ``OverflowError`` with pipes    no limit
``nan``                 no limit without pipes,         ``ValueError``
                        ``ValueError`` with them
str, Decimal            ``TypeError``                   ``TypeError``
======================  ==============================  ====================

The 24.8 days are the longest wait ``poll(2)`` and ``epoll_wait(2)``
accept (2**31 - 1 ms); a longer timer given to eventlet's hub makes every
later ``hub.wait()`` raise ``OverflowError``, so no such timer is ever
made.
"""

from __future__ import annotations

import math
import os

from patchguard._subproc.mask import mask_line
from patchguard._timeouts import as_seconds, shorten

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: Popen's positional parameters, in order (keyword-only ones follow).
POSITIONAL = tuple(
    "args bufsize executable stdin stdout stderr preexec_fn close_fds shell"
    " cwd env universal_newlines startupinfo creationflags restore_signals"
    " start_new_session pass_fds".split()
)
#: Longest timeout honoured, in seconds; longer ones mean "no limit".
MAX_TIMEOUT = (2**31 - 1) / 1000


def normalize(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Merge Popen's positional arguments into ``kwargs``, checked.

    :raises TypeError: as the stdlib for too many or duplicate arguments.
    """
    if len(args) > len(POSITIONAL):
        raise TypeError(
            f"Popen() takes at most {len(POSITIONAL)} positional "
            f"arguments ({len(args)} given)"
        )
    for name, value in zip(POSITIONAL, args, strict=False):
        if name in kwargs:
            raise TypeError(
                f"Popen() got multiple values for argument {name!r}"
            )
        kwargs[name] = value
    if "args" not in kwargs:
        raise TypeError("Popen() missing required argument 'args'")
    kwargs["args"] = checked_command(kwargs["args"])
    return kwargs


def checked_command(cmd: Any) -> Any:
    """Return ``cmd`` if it is a command the stdlib can run.

    Refused before anything is spawned, naming the culprit (the stdlib
    says "expected str, bytes or os.PathLike object, not int" without
    saying which argument).

    :raises TypeError: on a non-string argument or command.
    :raises ValueError: on an empty command.
    """
    if isinstance(cmd, (str, bytes, os.PathLike)):
        return cmd
    items = cmd
    if not isinstance(cmd, (list, tuple)):
        try:
            items = cmd = list(cmd)
        except TypeError:
            raise TypeError(
                "patchguard.subproc: the command must be a str, bytes, "
                "os.PathLike or a sequence of them, not "
                f"{type(cmd).__name__}"
            ) from None
    if not items:
        raise ValueError("patchguard.subproc: the command is empty")
    for index, item in enumerate(items):
        if not isinstance(item, (str, bytes, os.PathLike)):
            raise TypeError(
                f"patchguard.subproc: argument {index} of the command "
                f"{mask_line(items)} is {type(item).__name__}; expected "
                "str, bytes or os.PathLike"
            )
    return cmd


def checked_timeout(timeout: object) -> float | None:
    """Return the seconds to wait, or ``None`` for no limit.

    Negative values are kept (they time out at once, as the stdlib's).

    :param timeout: the caller's ``timeout`` argument.
    :returns: a finite float of at most :data:`MAX_TIMEOUT`, or None.
    :raises TypeError: when it is not a number (as the stdlib).
    :raises ValueError: when it is NaN.
    """
    if timeout is None:
        return None
    seconds = as_seconds(timeout, "patchguard.subproc: ")
    if math.isnan(seconds):
        raise ValueError(
            "patchguard.subproc: timeout must be None or a number of "
            "seconds, not nan"
        )
    return None if seconds > MAX_TIMEOUT else seconds


def timeout_arg(timeout: Any) -> Any:
    """Return what to pass on as ``timeout``: the caller's value, or None.

    The caller's value is kept when it is honoured, so the exception
    reports it as given (as the stdlib's does); ``None`` means no limit.

    :raises TypeError: when it is not a number.
    :raises ValueError: when it is NaN.
    """
    return None if checked_timeout(timeout) is None else timeout


def exit_codes(spec: object) -> tuple[bool, list[object]]:
    """Read ``execute``'s ``check_exit_code`` as ``processutils`` does.

    ``True`` and ``None`` accept 0, ``False`` anything, an int that
    status, any other iterable its items (compared with ``in``, as
    ``processutils``: ``[0.0]`` accepts 0, ``["0"]`` accepts nothing).
    ``processutils`` raises ``TypeError`` for a str or a non-iterable
    when it compares the status, after running the command; those are
    refused here, with the same type, before the command runs.

    :param spec: the ``check_exit_code`` argument.
    :returns: ``(check, accepted statuses)``.
    :raises TypeError: for a str or a non-iterable, naming the argument.
    """
    if isinstance(spec, bool):
        return spec, [0]
    if spec is None:
        return True, [0]
    if isinstance(spec, int):
        return True, [spec]
    if not isinstance(spec, str):
        try:
            # A list, also of a generator: every attempt sees all of it.
            return True, list(spec)  # type: ignore[call-overload]
        except TypeError:
            pass
    raise TypeError(
        "patchguard.subproc: check_exit_code must be a bool, an int or a "
        f"list of ints, not {type(spec).__name__} {shorten(spec)}"
    )
