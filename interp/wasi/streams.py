"""The guest's standard streams: stdin read from bytes given up front or,
lazily, from a host stream; stdout and stderr delivered to an
``OutputSink`` as bytes or as lines."""

from __future__ import annotations

from typing import BinaryIO

from interp.wasi.config import OutputMode, OutputSink

READ_CHUNK = 65536
"""Most bytes taken from a host stream at once."""


class InputStream:
    """Standard input: the configured bytes, then end of file for ever; or a
    host stream (the ``glasswasm`` process's own stdin), which is read only
    when the guest reads and only for what is there (``read1``: a guest
    asking for 4 KiB from a terminal gets the line typed, as from a tty)."""

    def __init__(self, source: bytes | BinaryIO) -> None:
        self._stream: BinaryIO | None = None
        self._buffer = b""
        if isinstance(source, bytes):
            self._buffer = source
        else:
            self._stream = source
        self._position = 0

    def _fill(self, limit: int) -> None:
        """Take up to ``limit`` more bytes from the host stream, waiting for
        at least one or the end of input; at the end, forget the stream."""
        stream = self._stream
        if stream is None:
            return
        read_some = getattr(stream, "read1", stream.read)
        chunk = read_some(max(1, min(limit, READ_CHUNK)))
        if not chunk:
            self._stream = None
            return
        self._buffer = self._buffer[self._position:] + chunk
        self._position = 0

    def available(self) -> int:
        """Bytes a read would return now (waiting for input if none is
        buffered yet); 0 only at the end of input."""
        if self._position == len(self._buffer):
            self._fill(READ_CHUNK)
        return len(self._buffer) - self._position

    def read(self, limit: int) -> bytes:
        if limit <= 0:
            return b""
        if self._position == len(self._buffer):
            self._fill(limit)
        chunk = self._buffer[self._position:self._position + limit]
        self._position += len(chunk)
        return chunk


class OutputStream:
    """Standard output or error, delivered as its sink's mode says.  In
    ``LINES`` mode it keeps the unfinished last line until a newline
    completes it or ``flush`` delivers it."""

    def __init__(self, sink: OutputSink | None) -> None:
        self._sink = sink
        self._partial = bytearray()

    def write(self, data: bytes) -> None:
        sink = self._sink
        if sink is None or not data:
            return
        if sink.mode is OutputMode.BYTES:
            sink.callback(data)
            return
        if sink.mode is OutputMode.WRITES:
            message = data[:-1] if data.endswith(b"\n") else data
            sink.callback(message.decode("utf-8", "replace"))
            return
        self._partial += data
        if b"\n" not in data:
            return
        *lines, rest = bytes(self._partial).split(b"\n")
        self._partial = bytearray(rest)
        for line in lines:
            sink.callback(line.decode("utf-8", "replace"))

    def flush(self) -> None:
        """Deliver an unfinished last line (``LINES`` mode), once."""
        if self._partial and self._sink is not None:
            line = bytes(self._partial)
            self._partial.clear()
            self._sink.callback(line.decode("utf-8", "replace"))
