"""Run commands in either mode without thinking about eventlet.

:mod:`patchguard.subproc` has the stdlib's :mod:`subprocess` API (``run``,
``Popen``, ``call``, ``check_call``, ``check_output`` and the stdlib's own
constants and exception classes) plus :func:`execute` in the style of
``oslo_concurrency.processutils``.  Each call picks its backend:

* **green** when the process is in eventlet mode and the caller runs on
  the hub's OS thread.  The child is spawned by the plain stdlib fork/exec
  path, its pipes are non-blocking and waited on by the hub, and its exit
  is waited for on a pidfd the hub watches, so other greenthreads run
  while it works and a short command costs about what it costs natively.
* **native** in native mode, and on any other OS thread of a patched
  process (a native thread must never touch green primitives).  It uses a
  copy of the stdlib module wired to the unpatched ``os``, ``select``,
  ``threading`` and ``time`` whenever eventlet is loaded.

Either way every child starts in a session of its own, so when
:func:`run`, :func:`call`, :func:`check_call`, :func:`check_output` or
:func:`execute` time out they kill the child *and its descendants*, reap
it, and raise the stdlib's :class:`subprocess.TimeoutExpired`.  The
command line and outputs are masked with
``oslo_utils.strutils.mask_password`` in every log record and exception
message.  :meth:`Popen.communicate` and :meth:`Popen.wait` keep the
stdlib's semantics: a timeout there leaves the child running (retry, or
call :meth:`Popen.kill_group`).

The machinery lives in :mod:`patchguard._subproc` (``popen``, ``checks``,
``mask``, and for eventlet mode ``unpatched``, ``hubwait``, ``streams``,
``green``).
"""

from __future__ import annotations

import logging
import os
import random
from subprocess import (
    DEVNULL,
    PIPE,
    STDOUT,
    CalledProcessError,
    CompletedProcess,
    TimeoutExpired,
)
from time import monotonic

from patchguard import _state
from patchguard._subproc.checks import exit_codes, timeout_arg
from patchguard._subproc.mask import (
    excerpt,
    mask,
    mask_cmd,
    mask_line,
    mask_output,
)
from patchguard._subproc.popen import Popen, backend, native_module, sleep

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

__all__ = [
    "DEVNULL",
    "PIPE",
    "STDOUT",
    "CalledProcessError",
    "CompletedProcess",
    "Popen",
    "TimeoutExpired",
    "backend",
    "call",
    "check_call",
    "check_output",
    "execute",
    "run",
]

LOG = logging.getLogger(__name__)

#: execute()'s pause between attempts, as processutils: random, seconds.
_RETRY_DELAY = (0.2, 2.0)


def _timed_out(
    process: Popen, exc: TimeoutExpired, timeout: Any
) -> TimeoutExpired:
    # Kill the whole group *before* reaping the child: while the child is
    # unreaped its pid (the group id) cannot be reused, so killpg() can
    # only reach our child's group.  The exception is rebuilt, masked,
    # with the caller's timeout (as the stdlib's run() reports it).
    process.kill_group()
    process.wait()
    if LOG.isEnabledFor(logging.DEBUG):
        LOG.debug(
            "Command %s timed out after %ss: killed its process group",
            mask_line(process.args),
            timeout,
        )
    new = TimeoutExpired(
        mask_cmd(process.args),
        timeout,
        output=mask_output(exc.output),
        stderr=mask_output(exc.stderr),
    )
    new.__traceback__ = exc.__traceback__
    return new


def run(
    *popenargs: Any,
    input: Any = None,
    capture_output: bool = False,
    timeout: float | None = None,
    check: bool = False,
    **kwargs: Any,
) -> CompletedProcess[Any]:
    """Run a command and wait for it, like :func:`subprocess.run`.

    :param popenargs: the command and other :class:`Popen` arguments.
    :param input: data for the child's stdin (str in text mode).
    :param capture_output: capture stdout and stderr.
    :param timeout: seconds, as the stdlib's: ``None``, ``inf`` and
        anything over ~24.8 days wait forever, 0 or less times out at
        once unless the child is done, NaN and non-numbers are refused.
        On expiry the child and its descendants are killed and reaped,
        then :class:`subprocess.TimeoutExpired` is raised.
    :param check: raise :class:`subprocess.CalledProcessError` on a
        non-zero exit status.
    :param kwargs: other :class:`Popen` arguments.
    :returns: the :class:`subprocess.CompletedProcess`.
    :raises TimeoutExpired: on timeout (command and output masked).
    :raises CalledProcessError: with ``check`` (command and output
        masked: the raw output is in the result of a call without
        ``check``).
    :raises ValueError: on a NaN timeout or conflicting arguments.
    :raises TypeError: on a non-string argument or a non-number timeout.
    :raises OSError: when the program or ``cwd`` cannot be found or run
        (file names masked).
    """
    timeout = timeout_arg(timeout)
    if input is not None:
        if kwargs.get("stdin") is not None:
            raise ValueError("stdin and input arguments may not both be used.")
        kwargs["stdin"] = PIPE
    if capture_output:
        if (
            kwargs.get("stdout") is not None
            or kwargs.get("stderr") is not None
        ):
            raise ValueError(
                "stdout and stderr arguments may not be used with "
                "capture_output."
            )
        kwargs["stdout"] = PIPE
        kwargs["stderr"] = PIPE
    with Popen(*popenargs, _pg_internal=True, **kwargs) as process:
        try:
            stdout, stderr = process.communicate(input, timeout=timeout)
        except TimeoutExpired as exc:
            raise _timed_out(process, exc, timeout) from None
        except BaseException:  # KeyboardInterrupt, GreenletExit...
            process.kill_group()
            raise  # __exit__ reaps it
        # communicate() has reaped the child: this returns at once.
        retcode = process.wait()
        if check and retcode:
            raise CalledProcessError(
                retcode,
                mask_cmd(process.args),
                mask_output(stdout),
                mask_output(stderr),
            )
    return CompletedProcess(process.args, retcode, stdout, stderr)


def call(*popenargs: Any, timeout: float | None = None, **kwargs: Any) -> int:
    """Run a command and return its exit status, like :func:`subprocess.call`.

    :param popenargs: the command and other :class:`Popen` arguments.
    :param timeout: seconds; on expiry the child and its descendants are
        killed and reaped, then :class:`subprocess.TimeoutExpired` raised.
    :param kwargs: other :class:`Popen` arguments.
    :returns: the exit status (``-N`` for signal N).
    :raises TimeoutExpired: on timeout (command masked).
    """
    timeout = timeout_arg(timeout)
    with Popen(*popenargs, **kwargs) as process:
        try:
            return process.wait(timeout=timeout)
        except TimeoutExpired as exc:
            raise _timed_out(process, exc, timeout) from None
        except BaseException:
            process.kill_group()
            raise


def check_call(*popenargs: Any, **kwargs: Any) -> int:
    """Like :func:`call` but raise on a non-zero exit status.

    :param popenargs: the command and other :class:`Popen` arguments.
    :param kwargs: ``timeout`` and other :class:`Popen` arguments.
    :returns: 0.
    :raises CalledProcessError: on a non-zero exit status (masked).
    :raises TimeoutExpired: on timeout (command masked).
    """
    retcode = call(*popenargs, **kwargs)
    if retcode:
        cmd = kwargs.get("args")
        if cmd is None:
            cmd = popenargs[0]
        raise CalledProcessError(retcode, mask_cmd(cmd))
    return 0


def check_output(
    *popenargs: Any, timeout: float | None = None, **kwargs: Any
) -> Any:
    """Run a command and return its stdout, as :func:`subprocess.check_output`.

    :param popenargs: the command and other :class:`Popen` arguments.
    :param timeout: seconds, as for :func:`run`.
    :param kwargs: ``input`` and other :class:`Popen` arguments.
    :returns: the output (bytes, or str in text mode).
    :raises CalledProcessError: on a non-zero exit status (masked).
    :raises TimeoutExpired: on timeout (command masked).
    """
    for kw in ("stdout", "check"):
        if kw in kwargs:
            raise ValueError(
                f"{kw} argument not allowed, it will be overridden."
            )
    if "input" in kwargs and kwargs["input"] is None:
        # As the stdlib: input=None means "empty input", not "inherit".
        text = any(
            kwargs.get(k)
            for k in ("universal_newlines", "text", "encoding", "errors")
        )
        kwargs["input"] = "" if text else b""
    return run(
        *popenargs, stdout=PIPE, timeout=timeout, check=True, **kwargs
    ).stdout


def execute(
    *cmd: str | bytes | os.PathLike[str],
    input: str | bytes | None = None,
    timeout: float | None = None,
    check_exit_code: bool | int | Iterable[int] | None = True,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    attempts: int = 1,
    log_level: int = logging.DEBUG,
) -> tuple[str, str]:
    """Run a command in the style of ``processutils.execute``.

    The child's stdin is ``input`` or empty; stdout and stderr are
    captured and decoded with :func:`os.fsdecode`.  The command and its
    outputs are logged at ``log_level``, masked.

    :param cmd: the program and its arguments (never run by a shell).
    :param input: data for stdin (str is UTF-8 encoded).
    :param timeout: seconds; on expiry the child and its descendants are
        killed and :class:`subprocess.TimeoutExpired` is raised (no retry).
    :param check_exit_code: as ``processutils``: ``True`` or ``None``
        accepts 0 only, ``False`` any status, an int that status, a list
        (or other iterable) the statuses in it.
    :param env: the child's whole environment (default: ours).
    :param cwd: the child's working directory.
    :param attempts: tries before giving up on an unaccepted status, with a
        random 0.2-2 s pause between them.
    :param log_level: the logging level of the records.
    :returns: ``(stdout, stderr)`` as str, unmasked.
    :raises ProcessExecutionError: (``oslo_concurrency.processutils``) on
        an unaccepted exit status; command, stdout and stderr masked.
    :raises TimeoutExpired: on timeout (command and output masked).
    :raises TypeError: for a ``check_exit_code`` that is a str or not
        iterable, a non-int ``attempts`` or a non-number timeout.
    :raises ValueError: when ``attempts`` < 1 or the timeout is NaN.
    """
    timeout = timeout_arg(timeout)
    if isinstance(attempts, bool) or not isinstance(attempts, int):
        raise TypeError(
            "patchguard.subproc: attempts must be an int >= 1, not "
            f"{type(attempts).__name__}"
        )
    if attempts < 1:
        raise ValueError(
            f"patchguard.subproc: attempts must be >= 1, not {attempts}"
        )
    check, accepted = exit_codes(check_exit_code)
    data = input.encode() if isinstance(input, str) else input
    args = list(cmd)
    logs = LOG.isEnabledFor(log_level)
    for attempt in range(1, attempts + 1):
        if logs:
            LOG.log(log_level, "Running cmd (subprocess): %s", mask_line(args))
        start = monotonic()
        result = run(
            args,
            input=data,
            stdin=DEVNULL if data is None else None,
            capture_output=True,
            timeout=timeout,
            env=env,
            cwd=cwd,
        )
        out, err = os.fsdecode(result.stdout), os.fsdecode(result.stderr)
        if logs:
            LOG.log(
                log_level,
                'CMD "%s" returned: %s in %0.3fs\nstdout: %s\nstderr: %s',
                mask_line(args),
                result.returncode,
                monotonic() - start,
                excerpt(out),
                excerpt(err),
            )
        if not check or result.returncode in accepted:
            return out, err
        if attempt < attempts:
            if logs:
                LOG.log(
                    log_level,
                    "%s failed (attempt %s of %s). Retrying.",
                    mask_line(args),
                    attempt,
                    attempts,
                )
            sleep(random.uniform(*_RETRY_DELAY))  # noqa: S311
            continue
        from oslo_concurrency.processutils import ProcessExecutionError

        raise ProcessExecutionError(
            stdout=mask(out),
            stderr=mask(err),
            exit_code=result.returncode,
            cmd=mask_line(args),
        )
    raise AssertionError("unreachable")  # pragma: no cover


# In eventlet mode, pay the one-time costs now, at start-up, rather than
# in the middle of serving: importing oslo.utils/oslo.concurrency (~200 ms)
# at the first failure, or building the unpatched subprocess copy at the
# first call, would stall the hub that long.
if _state.state().mode == "eventlet":
    from oslo_concurrency import processutils as _processutils  # noqa: F401
    from oslo_utils import strutils as _strutils  # noqa: F401

    native_module()
