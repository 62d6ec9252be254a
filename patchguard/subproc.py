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
"""

from __future__ import annotations

import logging
import math
import os
import random
import signal
import subprocess
import sys
import types
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

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    class _PopenBase(subprocess.Popen[Any]):
        # The stdlib internals the backends override or call (private API,
        # identical on 3.10-3.13).
        text_mode: bool
        _communication_started: bool
        _fileobj2output: dict[Any, list[bytes]]
        _input: Any
        _input_offset: int

        def _wait(self, timeout: float | None) -> int: ...
        def _save_input(self, input: Any) -> None: ...
        def _remaining_time(self, endtime: float | None) -> float | None: ...
        def _check_timeout(
            self,
            endtime: float | None,
            orig_timeout: float | None,
            stdout_seq: Any,
            stderr_seq: Any,
            skip_check_and_raise: bool = False,
        ) -> None: ...
else:
    _PopenBase = object

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

#: Popen's positional parameters, in order (keyword-only ones follow).
_POSITIONAL = tuple(
    "args bufsize executable stdin stdout stderr preexec_fn close_fds shell"
    " cwd env universal_newlines startupinfo creationflags restore_signals"
    " start_new_session pass_fds".split()
)
#: Whether native timed waits use a pidfd (private; tests reset it).
_PIDFD = hasattr(os, "pidfd_open")
#: execute()'s pause between attempts, as processutils: random, seconds.
_RETRY_DELAY = (0.2, 2.0)
#: Characters of each output stream that execute() logs.
_LOG_OUTPUT = 4096
#: Concrete Popen classes by backend module (private; tests may clear).
_CLASSES: dict[object, type[Popen]] = {}


def backend() -> str:
    """Return the backend a call made here and now would use.

    :returns: ``"green"`` on the hub's OS thread of an eventlet-mode
        process, ``"native"`` everywhere else.
    """
    return "green" if _state.on_hub_thread() else "native"


class Popen(_PopenBase):
    """The stdlib's :class:`subprocess.Popen`, green or native by caller.

    Same arguments and behaviour as the stdlib's, except that the child
    starts in a new session by default (``start_new_session=True``) so
    :meth:`kill_group` reaches its descendants; pass
    ``start_new_session=False`` to keep it in ours (timeouts then kill the
    child only).  Instances are usable with ``with``.  The class of the
    instance depends on the backend chosen at construction; it is always
    a subclass of this one.
    """

    _pg_own_group = False

    if not TYPE_CHECKING:
        __class_getitem__ = classmethod(types.GenericAlias)

        def __new__(cls, *args, **kwargs):
            if cls is Popen:
                cls = _popen_class()
            return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs = _normalize(args, kwargs)
        bufsize = kwargs.get("bufsize")
        if (
            kwargs.get("process_group") is None
            and "start_new_session" not in kwargs
        ):
            kwargs["start_new_session"] = True
        self._pg_own_group = bool(kwargs.get("start_new_session")) or (
            kwargs.get("process_group") == 0
        )
        self._pg_before_spawn()
        try:
            super().__init__(**kwargs)
        except OSError as exc:
            # The file name may be the whole command line (a string
            # without shell=True): mask it like any other message.
            for attr in ("filename", "filename2"):
                value = getattr(exc, attr)
                if isinstance(value, (str, bytes)):
                    setattr(exc, attr, _mask(_text(value)))
            raise
        try:
            self._adopt_pipes(-1 if bufsize is None else bufsize)
        except BaseException:
            self.kill_group()
            self.__exit__(None, None, None)
            raise

    def _pg_before_spawn(self) -> None:
        """Get ready to spawn (nothing to do natively)."""

    def _adopt_pipes(self, bufsize: int) -> None:
        """Adapt the pipes to the backend (nothing to do natively)."""

    def kill_group(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the child and all its descendants.

        The child's process group is signalled when it was started in its
        own session or group (the default), the child alone otherwise.
        Once the child has been reaped (``returncode`` is set) this does
        nothing: its group id may already belong to someone else.

        :param sig: the signal (default ``SIGKILL``).
        """
        if self.returncode is not None:
            return
        try:
            if self._pg_own_group:
                os.killpg(self.pid, sig)
            else:
                os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def _pg_timeout_expired(self, timeout: float | None) -> TimeoutExpired:
        return TimeoutExpired(_mask_cmd(self.args), timeout or 0)

    def _check_timeout(
        self,
        endtime: float | None,
        orig_timeout: float | None,
        stdout_seq: Any,
        stderr_seq: Any,
        skip_check_and_raise: bool = False,
    ) -> None:
        try:
            super()._check_timeout(
                endtime,
                orig_timeout,
                stdout_seq,
                stderr_seq,
                skip_check_and_raise,
            )
        except TimeoutExpired as exc:
            exc.cmd = _mask_cmd(exc.cmd)
            raise

    def _wait(self, timeout: float | None) -> int:
        # Native: the stdlib blocks in waitpid() without a timeout (fine)
        # but polls with a back-off with one.  Sleep on a pidfd instead.
        if timeout is not None and self.returncode is None and _PIDFD:
            exited = self._pg_pidfd_wait(timeout)
            if exited is not None:
                if exited or self.poll() is not None:
                    # Dead: the stdlib's blocking waitpid() returns at once.
                    return super()._wait(None)
                raise self._pg_timeout_expired(timeout)
        try:
            return super()._wait(timeout)
        except TimeoutExpired:
            raise self._pg_timeout_expired(timeout) from None

    def _pg_pidfd_wait(self, timeout: float) -> bool | None:
        # True once the child has exited, False on timeout, None when
        # pidfds are unavailable (the caller falls back to the stdlib).
        global _PIDFD
        try:
            fd = os.pidfd_open(self.pid)
        except ProcessLookupError:
            return True  # reaped by someone else: waitpid says ECHILD.
        except OSError:
            _PIDFD = False  # ENOSYS (kernel < 5.3) or EPERM (seccomp).
            return None
        try:
            poller = self._pg_select.poll()
            poller.register(fd, self._pg_select.POLLIN)
            deadline = monotonic() + timeout
            while True:
                # poll() takes int milliseconds: clamp (a negative value
                # would mean "forever").
                ms = math.ceil((deadline - monotonic()) * 1000)
                if poller.poll(min(max(ms, 0), 2**31 - 1)):
                    return True
                if monotonic() >= deadline:
                    return False
        finally:
            os.close(fd)

    #: the (unpatched) select module for native waits; set per class.
    _pg_select: Any = None


def _normalize(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    if len(args) > len(_POSITIONAL):
        raise TypeError(
            f"Popen() takes at most {len(_POSITIONAL)} positional "
            f"arguments ({len(args)} given)"
        )
    for name, value in zip(_POSITIONAL, args, strict=False):
        if name in kwargs:
            raise TypeError(
                f"Popen() got multiple values for argument {name!r}"
            )
        kwargs[name] = value
    if "args" not in kwargs:
        raise TypeError("Popen() missing required argument 'args'")
    kwargs["args"] = _checked_command(kwargs["args"])
    return kwargs


def _checked_command(cmd: Any) -> Any:
    # Refuse bad commands before anything is spawned, naming the culprit
    # (the stdlib says "expected str, bytes or os.PathLike object, not
    # int" without saying which argument).
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
                f"{_mask_line(items)} is {type(item).__name__}; expected "
                "str, bytes or os.PathLike"
            )
    return cmd


def _checked_timeout(timeout: object) -> float | None:
    if timeout is None:
        return None
    try:
        seconds = float(timeout)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(
            "patchguard.subproc: timeout must be None or a number of "
            f"seconds, not {type(timeout).__name__}"
        ) from None
    if not seconds >= 0:  # also refuses NaN
        raise ValueError(
            "patchguard.subproc: timeout must be a non-negative number of "
            f"seconds, not {timeout!r}"
        )
    return seconds


def _popen_class() -> type[Popen]:
    if _state.on_hub_thread():
        cls = _CLASSES.get("green")
        if cls is None:
            from patchguard._subproc import green as _subproc_green

            cls = _CLASSES["green"] = type(
                "Popen",
                (_subproc_green.GreenMixin, _native_class()),
                {"__module__": __name__},
            )
        return cls
    return _native_class()


def _native_module() -> types.ModuleType:
    if "eventlet" not in sys.modules:
        return subprocess  # nothing can be patched without eventlet
    from patchguard._subproc import green as _subproc_green

    return _subproc_green.unpatched_subprocess()


def _native_class() -> type[Popen]:
    module = _native_module()
    cls = _CLASSES.get(module)
    if cls is None:
        cls = _CLASSES[module] = type(
            "Popen",
            (Popen, module.Popen),
            {"__module__": __name__, "_pg_select": module.select},
        )
    return cls


def _sleep(seconds: float) -> None:
    if backend() == "green":
        from patchguard._subproc import green as _subproc_green

        _subproc_green.sleep(seconds)
    else:
        _native_module().time.sleep(seconds)


# -- masking ---------------------------------------------------------------


def _mask(text: str) -> str:
    # Imported on first use: oslo.utils costs ~150 ms to import.
    from oslo_utils import strutils

    return strutils.mask_password(text)


def _text(arg: object) -> str:
    if isinstance(arg, (bytes, os.PathLike)):
        return os.fsdecode(arg)
    return str(arg)


def _mask_line(cmd: Any) -> str:
    """Return the command line as one masked string (for messages)."""
    if isinstance(cmd, (str, bytes, os.PathLike)):
        return _mask(_text(cmd))
    try:
        return _mask(" ".join(_text(a) for a in cmd))
    except TypeError:  # not iterable
        return _mask(_text(cmd))


def _mask_cmd(cmd: Any) -> Any:
    """Return ``cmd`` masked, keeping its shape (a list stays a list).

    Each argument is masked alone and as a pair with the one before it
    (``["--password", "x"]`` masks ``"x"``); if the joined result still
    shows a secret, the masked command line (a str) is returned instead.
    """
    if cmd is None:
        return None
    if isinstance(cmd, (str, bytes, os.PathLike)):
        line = _text(cmd)
        masked = _mask(line)
        return cmd if masked == line else masked
    items = list(cmd)
    texts = [_text(a) for a in items]
    masks = [_mask(t) for t in texts]
    out: list[Any] = list(items)
    for i, (text, masked) in enumerate(zip(texts, masks, strict=True)):
        if masked != text:
            out[i] = masked
        elif i and masks[i - 1] == texts[i - 1]:
            pair = f"{texts[i - 1]} {text}"
            if _mask(pair) != pair:
                out[i] = "***"
    line = " ".join(_text(a) for a in out)
    if _mask(line) != line:
        return _mask(" ".join(texts))
    return cmd if out == items else out


def _excerpt(output: str) -> str:
    # Mask a little more than is logged, then cut: a cut made before
    # masking could split a secret from its key.
    if len(output) <= _LOG_OUTPUT:
        return _mask(output)
    masked = _mask(output[: _LOG_OUTPUT + 1024])[:_LOG_OUTPUT]
    return f"{masked}... [{len(output) - _LOG_OUTPUT} more characters]"


# -- the stdlib-shaped functions --------------------------------------------


def _timed_out(
    process: Popen, exc: TimeoutExpired, timeout: float | None
) -> None:
    # Kill the whole group *before* reaping the child: while the child is
    # unreaped its pid (the group id) cannot be reused, so killpg() can
    # only reach our child's group.
    process.kill_group()
    process.wait()
    exc.timeout = timeout or 0
    if LOG.isEnabledFor(logging.DEBUG):
        LOG.debug(
            "Command %s timed out after %ss: killed its process group",
            _mask_line(process.args),
            exc.timeout,
        )


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
    :param timeout: seconds; on expiry the child and its descendants are
        killed and reaped, then :class:`subprocess.TimeoutExpired` raised.
    :param check: raise :class:`subprocess.CalledProcessError` on a
        non-zero exit status.
    :param kwargs: other :class:`Popen` arguments.
    :returns: the :class:`subprocess.CompletedProcess`.
    :raises TimeoutExpired: on timeout (command masked).
    :raises CalledProcessError: with ``check`` (command masked).
    :raises ValueError: on a negative timeout or conflicting arguments.
    :raises TypeError: on a non-string argument.
    :raises OSError: when the program or ``cwd`` cannot be found or run.
    """
    timeout = _checked_timeout(timeout)
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
    with Popen(*popenargs, **kwargs) as process:
        try:
            stdout, stderr = process.communicate(input, timeout=timeout)
        except TimeoutExpired as exc:
            _timed_out(process, exc, timeout)
            raise
        except BaseException:  # KeyboardInterrupt, GreenletExit...
            process.kill_group()
            raise  # __exit__ reaps it
        # communicate() has reaped the child: this returns at once.
        retcode = process.wait()
        if check and retcode:
            raise CalledProcessError(
                retcode, _mask_cmd(process.args), stdout, stderr
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
    timeout = _checked_timeout(timeout)
    with Popen(*popenargs, **kwargs) as process:
        try:
            return process.wait(timeout=timeout)
        except TimeoutExpired as exc:
            _timed_out(process, exc, timeout)
            raise
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
        raise CalledProcessError(retcode, _mask_cmd(cmd))
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
    check_exit_code: bool | int | Sequence[int] = True,
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
    :param check_exit_code: ``True`` accepts 0 only, ``False`` any status,
        an int or a list of ints those statuses.
    :param env: the child's whole environment (default: ours).
    :param cwd: the child's working directory.
    :param attempts: tries before giving up on an unaccepted status, with a
        random 0.2-2 s pause between them.
    :param log_level: the logging level of the records.
    :returns: ``(stdout, stderr)`` as str, unmasked.
    :raises ProcessExecutionError: (``oslo_concurrency.processutils``) on
        an unaccepted exit status; command, stdout and stderr masked.
    :raises TimeoutExpired: on timeout (command masked).
    :raises ValueError: when ``attempts`` < 1 or the timeout is negative.
    """
    timeout = _checked_timeout(timeout)
    if attempts < 1:
        raise ValueError(
            f"patchguard.subproc: attempts must be >= 1, not {attempts}"
        )
    accepted: tuple[int, ...]
    if isinstance(check_exit_code, bool):
        check, accepted = check_exit_code, (0,)
    elif isinstance(check_exit_code, int):
        check, accepted = True, (check_exit_code,)
    else:
        check, accepted = True, tuple(check_exit_code)
    data = input.encode() if isinstance(input, str) else input
    args = list(cmd)
    logs = LOG.isEnabledFor(log_level)
    for attempt in range(1, attempts + 1):
        if logs:
            LOG.log(
                log_level, "Running cmd (subprocess): %s", _mask_line(args)
            )
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
                _mask_line(args),
                result.returncode,
                monotonic() - start,
                _excerpt(out),
                _excerpt(err),
            )
        if not check or result.returncode in accepted:
            return out, err
        if attempt < attempts:
            if logs:
                LOG.log(
                    log_level,
                    "%s failed (attempt %s of %s). Retrying.",
                    _mask_line(args),
                    attempt,
                    attempts,
                )
            _sleep(random.uniform(*_RETRY_DELAY))  # noqa: S311
            continue
        from oslo_concurrency.processutils import ProcessExecutionError

        raise ProcessExecutionError(
            stdout=_mask(out),
            stderr=_mask(err),
            exit_code=result.returncode,
            cmd=_mask_line(args),
        )
    raise AssertionError("unreachable")  # pragma: no cover


# In eventlet mode, pay the one-time costs now, at start-up, rather than
# in the middle of serving: importing oslo.utils/oslo.concurrency (~200 ms)
# at the first failure, or building the unpatched subprocess copy at the
# first call, would stall the hub that long.
if _state.state().mode == "eventlet":
    from oslo_concurrency import processutils as _processutils  # noqa: F401
    from oslo_utils import strutils as _strutils  # noqa: F401

    _native_module()
