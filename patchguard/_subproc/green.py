"""The green backend of :mod:`patchguard.subproc`.

:class:`GreenMixin` turns the ``Popen`` of the unpatched ``subprocess``
copy green: pipes are made non-blocking and waited on through the hub,
and the exit is waited for on a pidfd registered with the hub (Linux >=
5.3) instead of eventlet's fixed 10 ms polling, with an exponential
back-off around ``waitpid(WNOHANG)`` where pidfds are unavailable.
:meth:`GreenMixin.communicate` always takes the hub-driven path: the
stdlib's shortcut for a single pipe (``stdout.read()``) would read
through eventlet's green file one trampoline at a time and join the
whole output on the hub (issue 16: 62-161 MB/s and 64-95 ms stalls on
50 MB).  Imported only on the hub's thread of a patched process.
"""

from __future__ import annotations

import os
import posix
from time import monotonic

from patchguard._subproc.base import PopenBase
from patchguard._subproc.checks import timeout_arg as _timeout_arg
from patchguard._subproc.hubwait import PipeWaiter, await_exit, offload, pace
from patchguard._subproc.streams import (
    Sink,
    close_quietly,
    decode,
    greenify,
    hand_back,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

#: Bytes per read/write on a pipe: a whole default pipe buffer.
_CHUNK = 65536
#: Bytes moved through the hub before the rest moves on a native thread.
_BULK_SWITCH = 1024 * 1024
#: Text output size from which communicate() decodes on a native thread.
_OFFLOAD = 4 * 1024 * 1024

# ``posix`` holds the real system calls: eventlet patches attributes of
# ``os`` (read, write, waitpid...), never of ``posix``.
_read = posix.read
_write = posix.write


class GreenMixin(PopenBase):
    """What makes a stdlib ``Popen`` green (see the module docstring)."""

    #: bytes read and written so far.
    _pg_moved: int
    #: whether only communicate() uses the pipes (set by Popen).
    _pg_internal: bool
    #: streams to close once back from the native thread, while there.
    _pg_later: list[Any] | None = None
    #: the hub registration of the pipes while communicate() waits.
    _pg_waiter: PipeWaiter | None = None
    #: the unpatched select module (set on the native class).
    _pg_select: Any

    def _pg_before_spawn(self) -> None:
        self._pg_moved = 0
        pace()

    def _adopt_pipes(self, bufsize: int) -> None:
        if self._pg_internal:
            # Only communicate() will use these pipes, through their raw
            # descriptors: non-blocking is all it needs.  Building green
            # file objects would cost ~40% of a short command's CPU.
            for stream in (self.stdin, self.stdout, self.stderr):
                if stream is not None:
                    os.set_blocking(stream.fileno(), False)
            return
        if self.stdin is not None:
            self.stdin = greenify(self.stdin, True, bufsize)
        if self.stdout is not None:
            self.stdout = greenify(self.stdout, False, bufsize)
        if self.stderr is not None:
            self.stderr = greenify(self.stderr, False, bufsize)

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
            delay = await_exit(self.pid, remaining, delay)

    def communicate(
        self, input: Any = None, timeout: float | None = None
    ) -> tuple[Any, Any]:
        """Talk to the child through the hub (see the module docstring).

        :param input: data for stdin.
        :param timeout: seconds, as :meth:`patchguard.subproc.Popen.wait`.
        :returns: ``(stdout, stderr)``.
        """
        if self._communication_started and input:
            raise ValueError("Cannot send input after starting communication")
        if self.stdin is None and self.stdout is None and self.stderr is None:
            return super().communicate(input, timeout)  # just wait()
        timeout = _timeout_arg(timeout)
        endtime = None if timeout is None else monotonic() + timeout
        try:
            stdout, stderr = self._communicate(input, endtime, timeout)
        finally:
            self._communication_started = True
        self.wait(timeout=self._remaining_time(endtime))
        return stdout, stderr

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
        # Each pipe's output goes into one BytesIO as it arrives: joining
        # a list of chunks at the end copied every byte once more, after
        # the child was done (0.15-0.2 ms of a 1 MB check_output's 2.5).
        sinks: dict[int, Sink] = {}
        cancel = [False]
        try:
            # Inside the try: whatever interrupts (a KeyboardInterrupt, as
            # the stdlib allows for, bpo-25942), the finally hands every
            # byte back for a retry.
            for fd, stream in readers.items():
                sinks[fd] = Sink(self._fileobj2output[stream])
            while readers or writer is not None:
                if self._pg_moved > _BULK_SWITCH and not cancel[0]:
                    # Bulk data: the rest moves on a native thread, as
                    # fast as natively (a trip through the hub per read
                    # costs ~2x the CPU); the hub runs meanwhile, the GIL
                    # being released in every system call.
                    self._pg_unpark()  # parks on the worker, not pipes
                    writer = self._pg_offload(
                        readers, writer, endtime, cancel, sinks
                    )
                    cancel[0] = True  # once: after a timeout, finish here
                self._pg_pump(readers, sinks)
                if writer is not None and self._pg_feed(writer):
                    writer = None
                if not readers and writer is None:
                    break
                remaining = None
                if endtime is not None:
                    remaining = endtime - monotonic()
                    if remaining < 0:
                        self._pg_expired(endtime, orig_timeout, sinks)
                # One read per pipe, then back to the hub: a child that
                # writes faster than we read must not starve the other
                # greenthreads.
                if self._pg_waiter is None:
                    self._pg_waiter = PipeWaiter(
                        list(readers),
                        [] if writer is None else [writer.fileno()],
                    )
                self._pg_waiter.wait(remaining)
                if endtime is not None and monotonic() > endtime:
                    self._pg_expired(endtime, orig_timeout, sinks)
        finally:
            try:
                hand_back(sinks)
            finally:
                self._pg_unpark()
        self.wait(timeout=self._remaining_time(endtime))
        size = sum(map(len, stdout or ())) + sum(map(len, stderr or ()))
        if size >= _OFFLOAD and self.text_mode:
            # Decoding tens of MB takes tens of ms: on a native thread, in
            # steps (the GIL passes to the hub's thread between them).
            return offload(self._pg_collect, stdout, stderr)  # type: ignore[no-any-return]
        return self._pg_collect(stdout, stderr)

    def _pg_expired(
        self,
        endtime: float,
        orig_timeout: float | None,
        sinks: dict[int, Sink],
    ) -> None:
        # Raises TimeoutExpired with the output read so far (a retry
        # resumes from it too): the stdlib's bookkeeping must hold it first.
        hand_back(sinks)
        stdout = self._fileobj2output[self.stdout] if self.stdout else None
        stderr = self._fileobj2output[self.stderr] if self.stderr else None
        self._check_timeout(
            endtime, orig_timeout, stdout, stderr, skip_check_and_raise=True
        )

    def _pg_offload(
        self,
        readers: dict[int, IO[Any]],
        writer: IO[Any] | None,
        endtime: float | None,
        cancel: list[bool],
        sinks: dict[int, Sink],
    ) -> IO[Any] | None:
        self._pg_later = []
        try:
            return offload(  # type: ignore[no-any-return]
                self._pg_native_loop,
                readers,
                writer,
                endtime,
                cancel,
                sinks,
                cancel=cancel,
            )
        finally:
            # Closed here: closing a green file notifies the hub of the
            # calling thread (a native thread would get a hub, and an
            # epoll descriptor, of its own).
            later, self._pg_later = self._pg_later, None
            for stream in later:
                close_quietly(stream)

    def _pg_unpark(self) -> None:
        if self._pg_waiter is not None:
            self._pg_waiter.close()
            self._pg_waiter = None

    def _pg_native_loop(
        self,
        readers: dict[int, IO[Any]],
        writer: IO[Any] | None,
        endtime: float | None,
        cancel: list[bool],
        sinks: dict[int, Sink],
    ) -> IO[Any] | None:
        # On a native thread while the greenthread is parked: the same
        # pump and feed, waiting in the unpatched poll().  Returns when
        # done, past ``endtime`` (the caller raises) or when cancelled;
        # polls at most 50 ms at a time to notice the cancellation.
        poller = self._pg_select.poll()
        for fd in readers:
            poller.register(fd, self._pg_select.POLLIN)
        if writer is not None:
            poller.register(writer.fileno(), self._pg_select.POLLOUT)
        while (readers or writer is not None) and not cancel[0]:
            remaining = self._remaining_time(endtime)
            if remaining is not None and remaining < 0:
                break
            ms = 50 if remaining is None else min(50, int(remaining * 1000))
            poller.poll(ms)
            for fd in list(readers):
                if not self._pg_drain(fd, sinks[fd]):
                    poller.unregister(fd)
                    self._pg_close(readers.pop(fd))
            if writer is not None:
                fd = writer.fileno()
                if self._pg_feed(writer):
                    poller.unregister(fd)
                    writer = None
        return writer

    def _pg_drain(self, fd: int, sink: Sink) -> bool:
        # Read what the pipe holds into ``sink``; False at end of file.
        while True:
            try:
                data = _read(fd, _CHUNK)
            except BlockingIOError:
                return True
            if not data:
                sink.eof = True
                return False
            sink.buffer.write(data)
            self._pg_moved += len(data)

    def _pg_pump(
        self, readers: dict[int, IO[Any]], sinks: dict[int, Sink]
    ) -> None:
        # One read per pipe (64 KB, a whole default pipe buffer), then
        # back to the hub.
        for fd in list(readers):
            try:
                data = _read(fd, _CHUNK)
            except BlockingIOError:
                continue
            if not data:
                sinks[fd].eof = True
                self._pg_close(readers.pop(fd))
                continue
            sinks[fd].buffer.write(data)
            self._pg_moved += len(data)

    def _pg_feed(self, writer: IO[Any]) -> bool:
        # One chunk per turn, as for reads; True once stdin is done with.
        data = memoryview(self._input)
        try:
            if self._input_offset < len(data):
                end = self._input_offset + _CHUNK
                chunk = data[self._input_offset : end]
                written = _write(writer.fileno(), chunk)
                self._input_offset += written
                self._pg_moved += written
            if self._input_offset < len(data):
                return False
        except BlockingIOError:
            return False
        except BrokenPipeError:
            pass  # the child stopped reading: like the stdlib, carry on.
        self._pg_close(writer)
        return True

    def _pg_close(self, stream: IO[Any]) -> None:
        if self._pg_waiter is not None:
            # Off the hub first: a closed descriptor's number can be
            # reused by the next open() before the hub forgets it.
            self._pg_waiter.drop(stream.fileno())
        if self._pg_later is None or self._pg_internal:
            close_quietly(stream)  # on the hub's thread, or a plain file
            return
        # A green file, on the native thread: release the pipe now (the
        # child must see EOF on stdin) by putting /dev/null in its place,
        # and close the file object once back on the hub's thread.
        # (posix, not os: eventlet's os.open notifies the caller's hub.)
        null = posix.open(os.devnull, os.O_RDWR)
        try:
            posix.dup2(null, stream.fileno())
        finally:
            posix.close(null)
        self._pg_later.append(stream)

    def _pg_collect(
        self, stdout: list[bytes] | None, stderr: list[bytes] | None
    ) -> tuple[Any, Any]:
        # The text streams carry the encoding Popen was given.
        streams: Any = (self.stdout, self.stderr)
        found: list[Any] = []
        for chunks, stream in zip((stdout, stderr), streams, strict=True):
            data: Any = None if chunks is None else b"".join(chunks)
            if data is not None and self.text_mode:
                data = decode(data, stream.encoding, stream.errors)
            found.append(data)
        return found[0], found[1]
