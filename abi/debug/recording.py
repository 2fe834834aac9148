"""What the HTML report draws: every callback of a run with the host calls
it made, what the proxy did around it, and for stream callbacks the headers
and body as the plugin received them and as it left them.

``RunRecorder`` is both a trace listener (``listen``: callbacks, host calls
and proxy events, as ``abi.trace`` records them) and a VM instrument (it
looks at the stream just before and just after each callback runs, and
keeps a failing callback's backtrace with its source lines).  Callout
answers, which arrive on a root context, are put on the stream that made
the call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from abi.proxy.http_stream import FilterSlot, http_slot
from abi.vm.instruments import ExportCall, VmInstrument
from abi.vm.module import PluginModule
from interp.dwarf.source_map import SourceMap
from interp.errors import ExecutionError

MAX_RECORDS = 100_000
"""Callbacks and events kept; a longer run's report says how many more there were."""
CALLOUT_CALLS = ("proxy_http_call", "proxy_dispatch_http_call", "proxy_grpc_call", "proxy_grpc_stream")


@dataclass(frozen=True)
class StreamState:
    """A stream as one plugin sees it at one moment: the header maps
    (``None`` when there is none yet) and the body buffered at its place."""

    request_headers: tuple[tuple[str, str], ...] | None
    response_headers: tuple[tuple[str, str], ...] | None
    request_trailers: tuple[tuple[str, str], ...] | None
    response_trailers: tuple[tuple[str, str], ...] | None
    request_body: bytes | None
    response_body: bytes | None

    @staticmethod
    def of(slot: FilterSlot) -> StreamState:
        stream = slot.stream

        def pairs(headers: Any) -> tuple[tuple[str, str], ...] | None:
            return None if headers is None else tuple(tuple(pair) for pair in headers.to_report())

        return StreamState(pairs(stream.request_headers), pairs(stream.response_headers),
                           pairs(stream.request_trailers), pairs(stream.response_trailers),
                           None if slot.request.body is None else bytes(slot.request.body),
                           None if slot.response.body is None else bytes(slot.response.body))


@dataclass(frozen=True)
class FrameLine:
    """One frame of a failure's backtrace, with its source line when known."""

    frame: str
    source: str | None


@dataclass
class CallbackRecord:
    """One callback: its trace entries' facts, the host calls it made, and
    for a stream callback the stream before and after."""

    seq: int
    time_ns: int
    plugin: str
    name: str
    context_id: int | None
    stream: str | None
    args: dict[str, Any]
    result: Any = None
    error: str | None = None
    returned: bool = False
    hostcalls: list[dict[str, Any]] = field(default_factory=list)
    before: StreamState | None = None
    after: StreamState | None = None
    backtrace: tuple[FrameLine, ...] = ()

    def logs(self) -> list[dict[str, Any]]:
        return [call for call in self.hostcalls if call["name"] == "proxy_log" and call["status"] == "OK"]


@dataclass(frozen=True)
class EventRecord:
    """Something the proxy did (a trace ``event`` entry)."""

    seq: int
    time_ns: int
    event: str
    stream: str | None
    details: dict[str, Any]


Record = CallbackRecord | EventRecord


class RunRecorder(VmInstrument):
    """See the module docstring.  ``search_paths``: folders where the
    modules' source files may be found (for failures' source lines)."""

    def __init__(self, search_paths: tuple[str, ...] = ()) -> None:
        self.search_paths = search_paths
        self.records: list[Record] = []
        self.dropped = 0
        self._current: CallbackRecord | None = None
        self._callout_streams: dict[tuple[str, int], str | None] = {}
        self._source_maps: dict[int, tuple[PluginModule, SourceMap | None]] = {}

    # --- the trace ----------------------------------------------------------------------------

    def listen(self, entry: dict[str, Any]) -> None:
        kind = entry["type"]
        if kind == "callback":
            stream = entry["stream"]
            token = entry["args"].get("token")
            if stream is None and token is not None:
                stream = self._callout_streams.get((entry["plugin"], token))
            record = CallbackRecord(entry["seq"], entry.get("time_ns", 0), entry["plugin"], entry["name"],
                                    entry["context_id"], stream, dict(entry["args"]))
            self._current = record
            self._keep(record)
        elif kind == "callback_return" and self._current is not None:
            self._current.returned = True
            self._current.result = entry.get("result")
            self._current.error = entry.get("error")
            self._current = None
        elif kind == "hostcall" and self._current is not None:
            self._current.hostcalls.append(entry)
            token = entry["result"].get("token") if isinstance(entry["result"], dict) else None
            if entry["name"] in CALLOUT_CALLS and token is not None:
                self._callout_streams[(entry["plugin"], token)] = self._current.stream
        elif kind == "event":
            details = {key: value for key, value in entry.items()
                       if key not in ("seq", "time_ns", "type", "event", "stream")}
            self._keep(EventRecord(entry["seq"], entry.get("time_ns", 0), entry["event"], entry["stream"], details))

    def _keep(self, record: Record) -> None:
        if len(self.records) < MAX_RECORDS:
            self.records.append(record)
        else:
            self.dropped += 1

    # --- around each callback ------------------------------------------------------------------

    def invoke(self, call: ExportCall, proceed: Callable[[], list]) -> list:
        record = self._current
        slot = http_slot(call.context)
        if record is not None and slot is not None:
            record.before = StreamState.of(slot)
        try:
            return proceed()
        except ExecutionError as error:
            if record is not None:
                record.backtrace = self._backtrace(call.vm.module, error)
            raise
        finally:
            if record is not None and slot is not None:
                record.after = StreamState.of(slot)

    def _backtrace(self, module: PluginModule, error: ExecutionError) -> tuple[FrameLine, ...]:
        source_map = self._source_map(module)
        lines = []
        for entry in error.backtrace:
            text = None
            if source_map is not None and entry.offset is not None:
                location = source_map.location(entry.offset)
                if location is not None:
                    text = source_map.source_line(location)
            lines.append(FrameLine(entry.describe(), text.strip() if text else None))
        return tuple(lines)

    def _source_map(self, module: PluginModule) -> SourceMap | None:
        found = self._source_maps.get(id(module))
        if found is None:
            found = self._source_maps[id(module)] = (module, SourceMap.for_module(module.module, self.search_paths))
        return found[1]

    # --- reading ------------------------------------------------------------------------------

    def of_stream(self, stream: str) -> list[Record]:
        """The records of one stream or connection, in the order they happened."""
        return [record for record in self.records if record.stream == stream]
