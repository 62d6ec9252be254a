"""Masking for :mod:`patchguard.subproc`: secrets never leave in any form.

Every exception :mod:`patchguard.subproc` raises or re-raises, and every
record it logs, carries command lines and outputs passed through
``oslo_utils.strutils.mask_password`` (issue 11 §1).  Masking an
exception's attributes is not enough: ``BaseException.args`` keeps the
constructor's arguments, and ``repr()`` and pickling read them.  So a
stdlib exception that holds a command or output (``TimeoutExpired``,
``CalledProcessError``) is rebuilt from masked values
(:func:`masked_error`), never patched in place.
"""

from __future__ import annotations

import os
from subprocess import CalledProcessError, TimeoutExpired

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: Characters of each output stream that execute() logs.
LOG_OUTPUT = 4096


def mask(text: str) -> str:
    """Return ``text`` with secrets replaced by ``***``.

    :param text: any text (a command line, an output).
    :returns: the masked text.
    """
    # Imported on first use: oslo.utils costs ~150 ms to import.
    from oslo_utils import strutils

    return strutils.mask_password(text)


def text(arg: object) -> str:
    """Return ``arg`` as text (bytes and paths through os.fsdecode)."""
    if isinstance(arg, (bytes, os.PathLike)):
        return os.fsdecode(arg)
    return str(arg)


def mask_line(cmd: Any) -> str:
    """Return the command line as one masked string (for messages)."""
    if isinstance(cmd, (str, bytes, os.PathLike)):
        return mask(text(cmd))
    try:
        return mask(" ".join(text(a) for a in cmd))
    except TypeError:  # not iterable
        return mask(text(cmd))


def mask_cmd(cmd: Any) -> Any:
    """Return ``cmd`` masked, keeping its shape (a list stays a list).

    Each argument is masked alone and as a pair with the one before it
    (``["--password", "x"]`` masks ``"x"``); if the joined result still
    shows a secret, the masked command line (a str) is returned instead.
    """
    if cmd is None:
        return None
    if isinstance(cmd, (str, bytes, os.PathLike)):
        line = text(cmd)
        masked = mask(line)
        return cmd if masked == line else masked
    items = list(cmd)
    texts = [text(a) for a in items]
    masks = [mask(t) for t in texts]
    out: list[Any] = list(items)
    for i, (plain, masked) in enumerate(zip(texts, masks, strict=True)):
        if masked != plain:
            out[i] = masked
        elif i and masks[i - 1] == texts[i - 1]:
            pair = f"{texts[i - 1]} {plain}"
            if mask(pair) != pair:
                out[i] = "***"
    line = " ".join(text(a) for a in out)
    if mask(line) != line:
        return mask(" ".join(texts))
    return cmd if out == items else out


def mask_output(data: Any) -> Any:
    """Return captured output masked, keeping its type (bytes or str).

    :param data: ``None``, bytes or str.
    :returns: the same kind of value, secrets replaced.
    """
    if data is None:
        return None
    if isinstance(data, str):
        return mask(data)
    # surrogateescape both ways: bytes that are not UTF-8 survive as-is.
    plain = os.fsdecode(bytes(data))
    masked = mask(plain)
    return data if masked == plain else os.fsencode(masked)


def excerpt(output: str) -> str:
    """Return the first :data:`LOG_OUTPUT` characters of ``output``, masked.

    :param output: a decoded output stream.
    :returns: the masked excerpt, with how much was left out.
    """
    # Mask a little more than is logged, then cut: a cut made before
    # masking could split a secret from its key.
    if len(output) <= LOG_OUTPUT:
        return mask(output)
    masked = mask(output[: LOG_OUTPUT + 1024])[:LOG_OUTPUT]
    return f"{masked}... [{len(output) - LOG_OUTPUT} more characters]"


def masked_error(exc: BaseException) -> BaseException:
    """Return ``exc`` rebuilt from masked values, or ``exc`` itself.

    ``TimeoutExpired`` and ``CalledProcessError`` are rebuilt (same class,
    same ``timeout``/``returncode``) with a masked ``cmd`` and masked
    ``output``/``stderr``, so ``str``, ``repr``, ``.args`` and pickle all
    see masked values.  An ``OSError`` from spawning gets masked
    ``filename``/``filename2`` (its pickle is built from them).

    :param exc: an exception about to propagate to the caller.
    :returns: the exception to raise.
    """
    new: BaseException
    if isinstance(exc, TimeoutExpired):
        new = type(exc)(
            mask_cmd(exc.cmd),
            exc.timeout,
            output=mask_output(exc.output),
            stderr=mask_output(exc.stderr),
        )
    elif isinstance(exc, CalledProcessError):
        new = type(exc)(
            exc.returncode,
            mask_cmd(exc.cmd),
            output=mask_output(exc.output),
            stderr=mask_output(exc.stderr),
        )
    elif isinstance(exc, OSError):
        for attr in ("filename", "filename2"):
            value = getattr(exc, attr)
            if isinstance(value, (str, bytes)):
                setattr(exc, attr, mask(text(value)))
        return exc
    else:
        return exc
    new.__traceback__ = exc.__traceback__
    return new
