"""The eventlet side of :mod:`patchguard.subproc`.

Imported only once eventlet is in the process.  Two things live here:

* :func:`unpatched_subprocess`, a private copy of the stdlib
  :mod:`subprocess` wired to the *original* ``os``, ``select``,
  ``selectors``, ``threading`` and ``time``.  ``eventlet.monkey_patch()``
  replaces attributes of those modules in place, so even
  ``eventlet.patcher.original('subprocess')`` ends up calling green
  ``os.waitpid``, ``time.sleep``, ``select.select`` and locks.  A native
  thread of a patched process must never touch those, and the green
  backend wants the plain fork/exec path too (no trampolines while
  spawning).  The copy's exception and result classes are the stdlib's,
  so ``except subprocess.TimeoutExpired`` catches its errors.
* :class:`GreenMixin`, which turns that copy's ``Popen`` green: pipes are
  made non-blocking and waited on through the hub, and the exit is waited
  for on a pidfd registered with the hub (Linux >= 5.3) instead of
  eventlet's fixed 10 ms polling, with an exponential back-off around
  ``waitpid(WNOHANG)`` where pidfds are unavailable.
"""

from __future__ import annotations

import builtins
import codecs
import importlib
import importlib.util
import io
import os
import posix
import subprocess
import types
from time import monotonic

import eventlet
from eventlet import hubs, patcher
from eventlet.greenio.py3 import GreenFileIO
from greenlet import getcurrent

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import IO, Any

    from patchguard.subproc import Popen as _Base
else:
    _Base = object

#: Whether to wait on pidfds (private; tests turn it off to exercise the
#: back-off fallback).  Switched off for good on the first ENOSYS/EPERM.
_PIDFD = hasattr(os, "pidfd_open")
#: Bytes per read/write on a pipe: a whole default pipe buffer.
_CHUNK = 65536
#: Output size from which communicate() joins it on a native thread.
_OFFLOAD = 4 * 1024 * 1024
#: Bytes decoded per step when decoding large text output.
_PIECE = 1024 * 1024
#: Longest pause of the waitpid back-off, in seconds.
_MAX_DELAY = 0.05
#: Longest stretch of back-to-back spawning before the hub gets a turn.
_SPAWN_BUDGET = 0.005
# When the current stretch of spawning started (None: the hub has run).
_burst_start: float | None = None
_UNPATCHED: types.ModuleType | None = None

# ``posix`` holds the real system calls: eventlet patches attributes of
# ``os`` (read, write, waitpid...), never of ``posix``.
_read = posix.read
_write = posix.write


class _Unpatched(types.ModuleType):
    """A live view of a module with eventlet's replacements undone.

    Attributes come from the real module (so ``os.environ`` and everything
    else stay shared and current) except the ones eventlet patches or
    deletes, which come from an unpatched source.
    """

    def __init__(
        self, real: types.ModuleType, originals: Mapping[str, object]
    ) -> None:
        super().__init__(real.__name__, real.__doc__)
        self.__dict__.update(originals)
        self.__dict__["_pg_real"] = real

    def __getattr__(self, name: str) -> Any:
        # Called only for names not yet in our __dict__: remember them, so
        # the hot path (os.fsencode, os.path...) is a plain lookup.
        value = getattr(self.__dict__["_pg_real"], name)
        self.__dict__[name] = value
        return value


def _view(name: str, source: object) -> _Unpatched:
    green = importlib.import_module("eventlet.green." + name)
    names = [
        *getattr(green, "__patched__", ()),
        *getattr(green, "__deleted__", ()),
    ]
    originals = {n: getattr(source, n) for n in names if hasattr(source, n)}
    return _Unpatched(importlib.import_module(name), originals)


def _load_copy(
    name: str, replace: Mapping[str, types.ModuleType]
) -> types.ModuleType:
    # Execute a fresh copy of a stdlib module whose ``import`` statements
    # resolve ``replace``'s names to the given modules.  The swap lives in
    # the copy's own ``__builtins__``, so sys.modules is never touched and
    # other threads importing at the same time are unaffected (unlike
    # ``eventlet.patcher.inject``, which swaps sys.modules entries).
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot find the stdlib module {name!r}")
    module = importlib.util.module_from_spec(spec)

    def _import(
        modname: str,
        globals: Mapping[str, object] | None = None,
        locals: Mapping[str, object] | None = None,
        fromlist: tuple[str, ...] = (),
        level: int = 0,
    ) -> types.ModuleType:
        if level == 0 and modname in replace:
            return replace[modname]
        return builtins.__import__(modname, globals, locals, fromlist, level)

    namespace = dict(vars(builtins))
    namespace["__import__"] = _import
    module.__dict__["__builtins__"] = namespace
    spec.loader.exec_module(module)
    return module


def unpatched_subprocess() -> types.ModuleType:
    """Return the private copy of :mod:`subprocess` with no green parts.

    Built once; a race between two first callers builds two equivalent
    copies and keeps one, which is harmless.

    :returns: a module with the stdlib's API.
    """
    global _UNPATCHED
    if _UNPATCHED is None:
        select = _view("select", patcher.original("select"))
        modules = {
            "os": _view("os", posix),
            "time": _view("time", patcher.original("time")),
            "select": select,
            "selectors": _load_copy("selectors", {"select": select}),
            # eventlet's own unpatched threading (it builds it while
            # patching): subprocess only needs its Lock.
            "threading": patcher.original("threading"),
        }
        copy = _load_copy("subprocess", modules)
        # One set of classes whatever the backend: ``except
        # subprocess.TimeoutExpired`` must catch what the copy raises.
        for name in (
            "SubprocessError",
            "CalledProcessError",
            "TimeoutExpired",
            "CompletedProcess",
        ):
            setattr(copy, name, getattr(subprocess, name))
        _UNPATCHED = copy
    return _UNPATCHED


def sleep(seconds: float) -> None:
    """Sleep without blocking the hub.

    :param seconds: how long.
    """
    eventlet.sleep(seconds)


def _end_burst() -> None:
    global _burst_start
    _burst_start = None


def pace() -> None:
    """Let the hub run first if spawning has kept it busy too long.

    A spawn costs the hub thread ~1 ms (several on a loaded machine) and
    20 greenthreads woken together spawn in the same pass of the hub,
    before its timers fire.  Past a 5 ms budget, a spawner yields to the
    next pass: due timers and I/O run between its spawn and the others'.
    """
    global _burst_start
    while True:
        now = monotonic()
        if _burst_start is None:
            _burst_start = now
            # Fires at the hub's next pass, i.e. once the hub has run.
            hubs.get_hub().schedule_call_global(0, _end_burst)
            return
        if now - _burst_start <= _SPAWN_BUDGET:
            return
        eventlet.sleep(0)


def _decode(data: bytes, encoding: str, errors: str) -> str:
    # What the stdlib's _translate_newlines does (decode, then \r\n and
    # \r to \n), a megabyte at a time: between steps the GIL can pass
    # to the hub's thread.
    decoder = io.IncrementalNewlineDecoder(
        codecs.getincrementaldecoder(encoding)(errors), translate=True
    )
    view = memoryview(data)
    parts = [
        decoder.decode(view[i : i + _PIECE])
        for i in range(0, len(data), _PIECE)
    ]
    parts.append(decoder.decode(b"", final=True))
    return "".join(parts)


def _noop() -> None:
    pass


def _wait_any(
    read: list[int], write: list[int], timeout: float | None
) -> None:
    # Park until one descriptor is ready or ``timeout`` passes.  Not
    # eventlet.green.select: when several of its descriptors are ready in
    # one poll, the hub has already collected all their callbacks and
    # calls the stale ones after we resumed, switching a bogus value into
    # whatever this greenthread waits on next (tpool.execute, a queue, a
    # sleep of the caller's).  Here every callback is a no-op once the
    # wait is over.
    hub = hubs.get_hub()
    current = getcurrent()
    waiting = [True]

    def wake(*_: object) -> None:
        if waiting[0]:
            waiting[0] = False
            current.switch()

    def throw(*exc: Any) -> None:
        if waiting[0]:
            waiting[0] = False
            current.throw(*exc)

    listeners = []
    timer = None
    try:
        for fd in read:
            listeners.append(hub.add(hub.READ, fd, wake, throw, _noop))
        for fd in write:
            listeners.append(hub.add(hub.WRITE, fd, wake, throw, _noop))
        if timeout is not None:
            timer = hub.schedule_call_global(max(timeout, 0), wake)
        hub.switch()
    finally:
        waiting[0] = False
        for listener in listeners:
            hub.remove(listener)
        if timer is not None:
            timer.cancel()


def _offload(fn: Any, *args: Any) -> Any:
    # Run ``fn`` on a short-lived native thread, parking this greenthread
    # on a pipe meanwhile (robust to spurious wake-ups: it loops on the
    # result, unlike eventlet.tpool's event).  The worker owns the write
    # end: closed here, its number could be reused before the worker
    # writes to it.
    box: list[tuple[bool, Any]] = []
    rfd, wfd = os.pipe()

    def target() -> None:
        try:
            box.append((True, fn(*args)))
        except BaseException as exc:  # handed to the greenthread
            box.append((False, exc))
        finally:
            try:
                _write(wfd, b"x")
            except OSError:
                pass  # the greenthread is gone (killed while waiting)
            finally:
                os.close(wfd)

    try:
        worker = patcher.original("threading").Thread(
            target=target, name="patchguard-subproc-collect", daemon=True
        )
        try:
            worker.start()
        except BaseException:
            os.close(wfd)
            raise
        while not box:
            hubs.trampoline(rfd, read=True)
        worker.join()  # it has finished but for returning
    finally:
        os.close(rfd)
    ok, value = box[0]
    if not ok:
        raise value
    return value


class _Deadline(Exception):
    """Raised into a trampoline when its timeout passes (private)."""


def _await_exit(pid: int, timeout: float | None, delay: float) -> float:
    # Park the greenthread until ``pid`` exits (or ``timeout`` passes),
    # letting the hub run.  Returns the next back-off delay.
    global _PIDFD
    if _PIDFD:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            # Already reaped by someone else: poll() will notice.
            fd = -1
        except OSError:
            # ENOSYS (kernel < 5.3) or EPERM (seccomp): use the back-off.
            _PIDFD = False
            fd = -1
        if fd >= 0:
            try:
                hubs.trampoline(
                    fd, read=True, timeout=timeout, timeout_exc=_Deadline
                )
            except _Deadline:
                pass
            finally:
                os.close(fd)
            return delay
    eventlet.sleep(delay if timeout is None else min(delay, timeout))
    return min(delay * 2, _MAX_DELAY)


def _greenify(stream: IO[Any], writable: bool, bufsize: int) -> IO[Any]:
    # Rebuild ``stream`` (as stdlib Popen built it: raw FileIO, maybe a
    # buffer, maybe a TextIOWrapper) on a GreenFileIO over a duplicate of
    # its descriptor, which GreenFileIO makes non-blocking.
    text = stream if isinstance(stream, io.TextIOWrapper) else None
    inner: Any = text.buffer if text is not None else stream
    fd = os.dup(stream.fileno())
    try:
        stream.close()
        green: Any = GreenFileIO(fd, "w" if writable else "r")
    except BaseException:
        os.close(fd)
        raise
    if not isinstance(inner, io.FileIO):
        size = bufsize if bufsize > 1 else io.DEFAULT_BUFFER_SIZE
        buffered = io.BufferedWriter if writable else io.BufferedReader
        green = buffered(green, size)
    if text is not None:
        green = io.TextIOWrapper(
            green,
            encoding=text.encoding,
            errors=text.errors,
            line_buffering=text.line_buffering,
            write_through=text.write_through,
        )
    return green  # type: ignore[no-any-return]


class GreenMixin(_Base):
    """What makes a stdlib ``Popen`` green (see the module docstring)."""

    def _pg_before_spawn(self) -> None:
        pace()

    def _adopt_pipes(self, bufsize: int) -> None:
        if self.stdin is not None:
            self.stdin = _greenify(self.stdin, True, bufsize)
        if self.stdout is not None:
            self.stdout = _greenify(self.stdout, False, bufsize)
        if self.stderr is not None:
            self.stderr = _greenify(self.stderr, False, bufsize)

    def _wait(self, timeout: float | None) -> int:
        # The stdlib blocks in waitpid() (no timeout) or sleeps in a
        # back-off loop (timeout); eventlet polls every 10 ms.  Both cost
        # either the hub or throughput: park on the hub until the kernel
        # says the child exited.
        if self.returncode is not None:
            return self.returncode
        endtime = None if timeout is None else monotonic() + timeout
        delay = 0.0005
        while True:
            code = self.poll()
            if code is not None:
                return code
            remaining = None
            if endtime is not None:
                remaining = endtime - monotonic()
                if remaining <= 0:
                    raise self._pg_timeout_expired(timeout)
            delay = _await_exit(self.pid, remaining, delay)

    def _communicate(
        self, input: Any, endtime: float | None, orig_timeout: float | None
    ) -> tuple[Any, Any]:
        # The stdlib's POSIX _communicate with the selector replaced by the
        # hub: same bookkeeping (so a retry after TimeoutExpired loses no
        # output and resumes the input), non-blocking reads and writes.
        if self.stdin and not self._communication_started:
            try:
                self.stdin.flush()
            except BrokenPipeError:
                pass  # communicate() must ignore BrokenPipeError.
            if not input:
                try:
                    self.stdin.close()
                except BrokenPipeError:
                    pass
        if not self._communication_started:
            self._fileobj2output = {}
            if self.stdout:
                self._fileobj2output[self.stdout] = []
            if self.stderr:
                self._fileobj2output[self.stderr] = []
        stdout = self._fileobj2output[self.stdout] if self.stdout else None
        stderr = self._fileobj2output[self.stderr] if self.stderr else None
        self._save_input(input)
        readers = {
            f.fileno(): f
            for f in (self.stdout, self.stderr)
            if f and not f.closed
        }
        writer = self.stdin
        if writer is not None and (not input or writer.closed):
            writer = None
        while readers or writer is not None:
            self._pg_pump(readers)
            if writer is not None and self._pg_feed(writer):
                writer = None
            if not readers and writer is None:
                break
            remaining = self._remaining_time(endtime)
            if remaining is not None and remaining < 0:
                self._check_timeout(
                    endtime,
                    orig_timeout,
                    stdout,
                    stderr,
                    skip_check_and_raise=True,
                )
            # One read per pipe, then back to the hub: a child that writes
            # faster than we read must not starve the other greenthreads.
            _wait_any(
                list(readers),
                [] if writer is None else [writer.fileno()],
                remaining,
            )
            self._check_timeout(endtime, orig_timeout, stdout, stderr)
        self.wait(timeout=self._remaining_time(endtime))
        size = sum(map(len, stdout or ())) + sum(map(len, stderr or ()))
        if size >= _OFFLOAD:
            # Joining and decoding tens of MB takes tens of ms.  On a
            # native thread it costs the hub little: bytes.join releases
            # the GIL for large joins, and large text is decoded in steps.
            return _offload(self._pg_collect, stdout, stderr)  # type: ignore[no-any-return]
        return self._pg_collect(stdout, stderr)

    def _pg_pump(self, readers: dict[int, IO[Any]]) -> None:
        for fd, stream in list(readers.items()):
            try:
                data = _read(fd, _CHUNK)
            except BlockingIOError:
                continue
            if not data:
                del readers[fd]
                stream.close()
            self._fileobj2output[stream].append(data)

    def _pg_feed(self, writer: IO[Any]) -> bool:
        # One chunk per turn, as for reads; True once stdin is done with.
        data = memoryview(self._input)
        try:
            if self._input_offset < len(data):
                chunk = data[self._input_offset : self._input_offset + _CHUNK]
                self._input_offset += _write(writer.fileno(), chunk)
            if self._input_offset < len(data):
                return False
        except BlockingIOError:
            return False
        except BrokenPipeError:
            pass  # the child stopped reading: like the stdlib, carry on.
        try:
            writer.close()
        except BrokenPipeError:
            pass
        return True

    def _pg_collect(
        self, stdout: list[bytes] | None, stderr: list[bytes] | None
    ) -> tuple[Any, Any]:
        # The text streams carry the encoding Popen was given.
        streams: Any = (self.stdout, self.stderr)
        found: list[Any] = []
        for chunks, stream in zip((stdout, stderr), streams, strict=True):
            data: Any = None if chunks is None else b"".join(chunks)
            if data is not None and self.text_mode:
                data = _decode(data, stream.encoding, stream.errors)
            found.append(data)
        return found[0], found[1]
