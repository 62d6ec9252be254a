"""The :class:`Popen` of :mod:`patchguard.subproc` and its backends.

``Popen(...)`` builds an instance of a concrete class chosen per call:
the native class (the stdlib's ``Popen``, or in a process where eventlet
is loaded the ``Popen`` of a private unpatched copy of ``subprocess``,
see :mod:`patchguard._subproc.unpatched`) or the green class (the same
plus :class:`patchguard._subproc.green.GreenMixin`).  Both are
subclasses of :class:`Popen`, which adds the process group per child,
:meth:`Popen.kill_group`, a pidfd wait for native timed waits, the
timeout rules of :mod:`patchguard._subproc.checks` and masked
exceptions.  The green module is imported only on the hub's thread of a
patched process, so native mode never loads eventlet.
"""

from __future__ import annotations

import errno
import math
import os
import posix
import signal
import subprocess
import sys
import types
from subprocess import TimeoutExpired
from time import monotonic

from patchguard import _state
from patchguard._subproc.base import PopenBase
from patchguard._subproc.checks import normalize, timeout_arg
from patchguard._subproc.mask import mask_cmd, masked_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: Whether native timed waits use a pidfd (private; tests reset it).
_PIDFD = hasattr(os, "pidfd_open")
#: Concrete Popen classes by backend module (private; tests may clear).
_CLASSES: dict[object, type[Popen]] = {}
#: Whether Popen takes ``process_group`` (Python >= 3.11).
_GROUP_ONLY = sys.version_info >= (3, 11)


def _own_group(kwargs: dict[str, Any]) -> None:
    # Give the child a process group of its own (kill_group reaches its
    # descendants) unless the caller chose.  A new group, not a new
    # session, where possible: setsid() also puts the child in a new
    # scheduler autogroup (Linux, kernel.sched_autogroup_enabled, the
    # default of Debian's and Ubuntu's kernels), made and torn down per
    # child, and under CPU load such a child waits for a CPU: with one
    # CPU hog on two CPUs, 25-call blocks of `true` ran at 0.62-0.68x
    # (eventlet mode) and 0.81-0.90x (native) the stdlib's speed in the
    # same process, 0.94-1.02x in a new group.  But a background
    # group reading its controlling terminal is stopped by SIGTTIN, so a
    # caller with a terminal (a command run by hand) keeps the session,
    # as does Python 3.10, which has no process_group.
    if kwargs.get("process_group") is not None:
        return
    if "start_new_session" in kwargs:
        return
    if _GROUP_ONLY and not _maybe_terminal():
        kwargs["process_group"] = 0
    else:
        kwargs["start_new_session"] = True


def _maybe_terminal() -> bool:
    # False only when this process surely has no controlling terminal:
    # /dev/tty then fails with ENXIO.  Any other answer (it opened; no
    # /dev/tty in a chroot; a sandbox refusing it) keeps the session, so
    # a child on a real terminal is never a stopped background group.
    # Non-blocking, so a terminal line waiting for a carrier cannot hold
    # us; posix, not os: eventlet's os.open would notify the hub of a
    # descriptor it never sees.
    flags = posix.O_RDONLY | posix.O_NONBLOCK | posix.O_CLOEXEC
    try:
        fd = posix.open("/dev/tty", flags)
    except OSError as exc:
        return exc.errno != errno.ENXIO
    posix.close(fd)
    return True


def backend() -> str:
    """Return the backend a call made here and now would use.

    :returns: ``"green"`` on the hub's OS thread of an eventlet-mode
        process, ``"native"`` everywhere else.
    """
    return "green" if _state.on_hub_thread() else "native"


class Popen(PopenBase):
    """The stdlib's :class:`subprocess.Popen`, green or native by caller.

    Same arguments and behaviour as the stdlib's, except that the child
    gets a process group of its own by default, so :meth:`kill_group`
    reaches its descendants: a new group (``process_group=0``) when this
    process has no controlling terminal (a service), a new session
    (``start_new_session=True``) when it has one (a background group
    reading the terminal would be stopped), when that cannot be told (no
    ``/dev/tty``) and on Python 3.10.  Pass
    ``start_new_session`` or ``process_group`` to choose;
    ``start_new_session=False`` keeps the child in ours (timeouts then
    kill the child only).  Instances are usable with ``with``.  The
    class of the instance depends on the backend chosen at construction;
    it is always a subclass of this one.  Timeouts follow
    :func:`patchguard.subproc.run`
    (``inf`` waits forever), and the ``TimeoutExpired`` raised by
    :meth:`wait` and :meth:`communicate` carries masked ``cmd`` and
    output.
    """

    _pg_own_group = False
    _pg_internal = False

    if not TYPE_CHECKING:
        __class_getitem__ = classmethod(types.GenericAlias)

        def __new__(cls, *args, **kwargs):
            if cls is Popen:
                cls = _popen_class()
            return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # run() and friends own their Popen and only communicate() with
        # it: the backend may then skip building file objects.
        self._pg_internal = kwargs.pop("_pg_internal", False)
        kwargs = normalize(args, kwargs)
        bufsize = kwargs.get("bufsize")
        _own_group(kwargs)
        self._pg_own_group = bool(kwargs.get("start_new_session")) or (
            kwargs.get("process_group") == 0
        )
        self._pg_before_spawn()
        try:
            super().__init__(**kwargs)
        except OSError as exc:
            # The file name may be the whole command line (a string
            # without shell=True): mask it like any other message.
            raise masked_error(exc) from None
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

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the child to exit, as :meth:`subprocess.Popen.wait`.

        :param timeout: seconds (see :func:`patchguard.subproc.run`).
        :returns: the exit status.
        :raises TimeoutExpired: on timeout; the child keeps running.
        """
        return super().wait(timeout_arg(timeout))

    def communicate(
        self, input: Any = None, timeout: float | None = None
    ) -> tuple[Any, Any]:
        """Talk to the child, as :meth:`subprocess.Popen.communicate`.

        :param input: data for stdin.
        :param timeout: seconds (see :func:`patchguard.subproc.run`).
        :returns: ``(stdout, stderr)``.
        :raises TimeoutExpired: on timeout; the child keeps running and a
            retry loses no output.
        """
        return super().communicate(input, timeout_arg(timeout))

    def _pg_timeout_expired(self, timeout: Any) -> TimeoutExpired:
        return TimeoutExpired(mask_cmd(self.args), timeout)

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
            # Rebuilt, not patched: args and pickle hold the raw command.
            raise masked_error(exc) from None

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
            deadline = monotonic() + max(timeout, 0.0)
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


def _popen_class() -> type[Popen]:
    if _state.on_hub_thread():
        cls = _CLASSES.get("green")
        if cls is None:
            from patchguard._subproc.green import GreenMixin

            cls = _CLASSES["green"] = type(
                "Popen",
                (GreenMixin, _native_class()),
                {"__module__": "patchguard.subproc"},
            )
        return cls
    return _native_class()


def native_module() -> types.ModuleType:
    """Return the ``subprocess`` module native calls use.

    :returns: the stdlib's, or its unpatched copy once eventlet is loaded.
    """
    if "eventlet" not in sys.modules:
        return subprocess  # nothing can be patched without eventlet
    from patchguard._subproc.unpatched import unpatched_subprocess

    return unpatched_subprocess()


def _native_class() -> type[Popen]:
    module = native_module()
    cls = _CLASSES.get(module)
    if cls is None:
        cls = _CLASSES[module] = type(
            "Popen",
            (Popen, module.Popen),
            {"__module__": "patchguard.subproc", "_pg_select": module.select},
        )
    return cls


def sleep(seconds: float) -> None:
    """Sleep the way the caller should: on the hub, or natively.

    :param seconds: how long.
    """
    if backend() == "green":
        from patchguard._subproc.hubwait import green_sleep

        green_sleep(seconds)
    else:
        native_module().time.sleep(seconds)


Popen.__module__ = "patchguard.subproc"
