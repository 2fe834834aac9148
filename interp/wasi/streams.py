"""The guest's standard streams: stdin as a fixed byte string read once,
stdout and stderr delivered to an ``OutputSink`` as bytes or as lines."""

from __future__ import annotations

from interp.wasi.config import OutputMode, OutputSink


class InputStream:
    """Standard input: the configured bytes, then end of file for ever."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._position = 0

    @property
    def remaining(self) -> int:
        return len(self._data) - self._position

    def read(self, limit: int) -> bytes:
        chunk = self._data[self._position:self._position + limit]
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
