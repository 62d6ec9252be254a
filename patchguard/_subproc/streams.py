"""Pipe file objects and output buffers of the green backend.

What :mod:`patchguard._subproc.green` does to the streams of a ``Popen``
and to the bytes that come out of them: :func:`greenify` rebuilds a pipe
on eventlet's green file, :class:`Sink` gathers one pipe's output as it
arrives, :func:`hand_back` returns it to the stdlib's bookkeeping as one
bytes object, :func:`decode` turns large output into text a megabyte at
a time.  Imported only once eventlet is in the process.
"""

from __future__ import annotations

import codecs
import io
import os

from eventlet.greenio.py3 import GreenFileIO

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

#: Bytes decoded per step when decoding large text output.
PIECE = 1024 * 1024


def decode(data: bytes, encoding: str, errors: str) -> str:
    """Decode as the stdlib's ``_translate_newlines`` does, in steps.

    Decode, then ``\\r\\n`` and ``\\r`` to ``\\n``, :data:`PIECE` bytes at a
    time: between steps the GIL can pass to the hub's thread.

    :param data: the output.
    :param encoding: the text stream's encoding.
    :param errors: its error handler.
    :returns: the text.
    """
    decoder = io.IncrementalNewlineDecoder(
        codecs.getincrementaldecoder(encoding)(errors), translate=True
    )
    view = memoryview(data)
    parts = [
        decoder.decode(view[i : i + PIECE]) for i in range(0, len(data), PIECE)
    ]
    parts.append(decoder.decode(b"", final=True))
    return "".join(parts)


def close_quietly(stream: IO[Any]) -> None:
    """Close ``stream``; a broken pipe on the final flush is ignored.

    :param stream: a pipe's file object.
    """
    try:
        stream.close()
    except BrokenPipeError:
        pass  # stdin of a child that stopped reading: as the stdlib


class Sink:
    """One pipe's output while it moves.

    Holds the stdlib's list of chunks for that pipe (what
    ``TimeoutExpired`` and a retry read) and the buffer that gathers what
    is read meanwhile; the chunks already in the list move into the
    buffer first.  ``eof`` is set by the reader at end of file.

    :param chunks: the stdlib's ``_fileobj2output`` list for the pipe.
    """

    __slots__ = ("chunks", "buffer", "eof")

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.eof = False
        self.buffer = io.BytesIO()
        for chunk in chunks:
            self.buffer.write(chunk)
        chunks.clear()


def hand_back(sinks: dict[int, Sink]) -> None:
    """Put each pipe's output back in its list, as one bytes object.

    ``getvalue()`` hands the buffer over without a copy, and the final
    ``b"".join`` of a one-item list returns that object as it is.  A
    pipe that ended holds at least ``b""``, as the stdlib's list does
    (its end-of-file read), so a ``TimeoutExpired`` shows ``b""`` for a
    pipe closed empty and ``None`` for one still open and empty.
    Idempotent: the buffer starts again empty.

    :param sinks: descriptor -> sink.
    """
    for sink in sinks.values():
        if sink.buffer.tell():
            sink.chunks.append(sink.buffer.getvalue())
            sink.buffer = io.BytesIO()
        if sink.eof and not sink.chunks:
            sink.chunks.append(b"")


def greenify(stream: IO[Any], writable: bool, bufsize: int) -> IO[Any]:
    """Rebuild a pipe's file object on eventlet's green file.

    ``stream`` is as stdlib ``Popen`` built it (raw ``FileIO``, maybe a
    buffer, maybe a ``TextIOWrapper``); the same layers are rebuilt on a
    ``GreenFileIO`` over a duplicate of its descriptor, which
    ``GreenFileIO`` makes non-blocking, and ``stream`` is closed.

    :param stream: the pipe's file object.
    :param writable: whether it is the child's stdin.
    :param bufsize: ``Popen``'s ``bufsize``.
    :returns: the green file object.
    """
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
