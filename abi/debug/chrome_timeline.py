"""A proxy run as a Chrome Trace Event timeline (``glasswasm proxy --trace
FILE --trace-format chrome``), for Perfetto UI and chrome://tracing.

It is made from the proxy's trace as entries are recorded (a listener of
``abi.trace.Trace``), through the engine's ``ChromeTraceWriter``:

* process "plugins": one track per plugin, each callback a slice (its
  arguments, then its result or error), each host call a slice inside it
  (decoded arguments, status, result), and with ``--trace-instructions``
  the traced plugin's wasm calls nested in between;
* process "streams": one track per HTTP stream and TCP connection, each
  callback for it a slice, and what the proxy did to it (a local reply,
  the request reaching the origin, a reset, a stall...) and the plugins'
  log lines as instant events;
* process "proxy": what happened outside any stream (VMs starting, plugins
  loading, reconfigurations, failures);
* flows: an arrow from each HTTP or gRPC callout (the host call) to the
  callback that delivers its (first) answer; a callout never answered has
  the arrow's start only.

The clock is the simulated one: ``ts`` is the simulated time in
microseconds, moved on by at least one microsecond per event so that slices
inside one callback have a width and keep their order (the exact simulated
time is each event's ``time_ns`` argument).  The same run gives the same
file, byte for byte.
"""

from __future__ import annotations

from typing import Any, TextIO

from interp.debug.chrome_trace import ChromeTraceWriter, Track

PLUGINS_PID = 1
STREAMS_PID = 2
PROXY_PID = 3
PROXY_TRACK = Track(PROXY_PID, 1)
NS_PER_US = 1_000
CALLOUT_CALLS = {"proxy_http_call": "http", "proxy_dispatch_http_call": "http", "proxy_grpc_call": "grpc",
                 "proxy_grpc_stream": "grpc"}
CALLOUT_ANSWERS = {"proxy_on_http_call_response": "http", "proxy_on_grpc_receive_initial_metadata": "grpc",
                   "proxy_on_grpc_receive": "grpc", "proxy_on_grpc_receive_trailing_metadata": "grpc",
                   "proxy_on_grpc_close": "grpc"}
WASM_CALL_TYPES = ("call", "host_call")
WASM_RETURN_TYPES = ("return", "host_return")


class ProxyChromeTimeline:
    """A trace listener (``trace.listeners.append(timeline)``) writing the
    timeline to ``out``; ``close()`` ends it."""

    def __init__(self, out: TextIO, title: str) -> None:
        self.writer = ChromeTraceWriter(out, {"clock": "simulated time in microseconds, at least one per event",
                                              "producer": "glasswasm proxy", "scenario": title})
        self.writer.name_process(PLUGINS_PID, "plugins", 0)
        self.writer.name_process(STREAMS_PID, "streams", 1)
        self.writer.name_process(PROXY_PID, "proxy", 2)
        self.writer.name_thread(PROXY_TRACK, "proxy")
        self._tracks: dict[tuple[int, str], Track] = {}
        self._ts = 0
        self._callbacks: dict[str, tuple[int, Track | None]] = {}  # plugin -> (slices open below it, stream track)
        self._flows: dict[tuple[str, str, int], int] = {}  # (plugin, kind, token) -> flow id
        self._flow_count = 0

    # --- tracks and time ----------------------------------------------------------------------

    def _track(self, pid: int, name: str) -> Track:
        track = self._tracks.get((pid, name))
        if track is None:
            track = Track(pid, 1 + sum(1 for key in self._tracks if key[0] == pid))
            self._tracks[(pid, name)] = track
            self.writer.name_thread(track, name, track.tid)
        return track

    def _time(self, entry: dict[str, Any]) -> int:
        """The entry's ``ts``: its simulated time, at least one past the last."""
        self._ts = max(entry.get("time_ns", 0) // NS_PER_US, self._ts + 1)
        return self._ts

    # --- entries ------------------------------------------------------------------------------

    def __call__(self, entry: dict[str, Any]) -> None:
        kind = entry["type"]
        if kind == "callback":
            self._callback(entry)
        elif kind == "callback_return":
            self._callback_return(entry)
        elif kind == "hostcall":
            self._hostcall(entry)
        elif kind == "event":
            self._event(entry)
        elif kind in WASM_CALL_TYPES:
            self._wasm_call(entry)
        elif kind in WASM_RETURN_TYPES:
            self._wasm_return(entry)
        elif kind == "trap":
            plugin = self._track(PLUGINS_PID, entry["plugin"])
            self.writer.instant(plugin, f"{entry['kind']}: {entry['message']}", self._time(entry), "trap")

    def _callback(self, entry: dict[str, Any]) -> None:
        ts = self._time(entry)
        plugin = self._track(PLUGINS_PID, entry["plugin"])
        args = {"args": entry["args"], "context_id": entry["context_id"], "time_ns": entry.get("time_ns")}
        self.writer.begin(plugin, entry["name"], ts, "callback", args)
        stream = self._track(STREAMS_PID, entry["stream"]) if entry["stream"] else None
        if stream is not None:
            self.writer.begin(stream, f"{entry['plugin']}: {entry['name']}", ts, "callback", args)
        self._callbacks[entry["plugin"]] = (len(self.writer.open_slices(plugin)), stream)
        answer = CALLOUT_ANSWERS.get(entry["name"])
        token = entry["args"].get("token")
        if answer is not None and token is not None:
            flow = self._flows.pop((entry["plugin"], answer, token), None)
            if flow is not None:
                self.writer.flow_end(plugin, flow, f"{answer} call answered", ts)

    def _callback_return(self, entry: dict[str, Any]) -> None:
        ts = self._time(entry)
        plugin = self._track(PLUGINS_PID, entry["plugin"])
        depth, stream = self._callbacks.pop(entry["plugin"], (1, None))
        while len(self.writer.open_slices(plugin)) > depth:  # wasm calls a trap left open
            self.writer.end(plugin, ts)
        outcome = {"error": entry["error"]} if "error" in entry else {"result": entry.get("result")}
        if self.writer.open_slices(plugin):
            self.writer.end(plugin, ts, outcome)
        if stream is not None and self.writer.open_slices(stream):
            self.writer.end(stream, ts, outcome)

    def _hostcall(self, entry: dict[str, Any]) -> None:
        ts = self._time(entry)
        plugin = self._track(PLUGINS_PID, entry["plugin"])
        self.writer.begin(plugin, entry["name"], ts, "host",
                          {"args": entry["args"], "status": entry["status"], "result": entry["result"]})
        callout = CALLOUT_CALLS.get(entry["name"])
        token = entry["result"].get("token") if isinstance(entry["result"], dict) else None
        if callout is not None and token is not None and entry["status"] == "OK":
            self._flow_count += 1
            self._flows[(entry["plugin"], callout, token)] = self._flow_count
            self.writer.flow_start(plugin, self._flow_count, f"{callout} call", ts)
        self.writer.end(plugin, self._time(entry))
        if entry["name"] == "proxy_log" and entry["status"] == "OK":
            _, stream = self._callbacks.get(entry["plugin"], (0, None))
            where = stream if stream is not None else plugin
            self.writer.instant(where, f"log: {entry['args'].get('message', '')}", self._time(entry), "log",
                                {"plugin": entry["plugin"], "level": entry["args"].get("level")})

    def _event(self, entry: dict[str, Any]) -> None:
        ts = self._time(entry)
        track = self._track(STREAMS_PID, entry["stream"]) if entry["stream"] else PROXY_TRACK
        details = {key: value for key, value in entry.items() if key not in ("seq", "type", "stream", "event")}
        name = entry["event"]
        if name == "local_response":
            name = f"local reply {entry.get('status')} by {entry.get('plugin') or 'the proxy'}"
        self.writer.instant(track, name, ts, "proxy", details)

    def _wasm_call(self, entry: dict[str, Any]) -> None:
        plugin = self._track(PLUGINS_PID, entry["plugin"])
        name = entry["func"] if entry["type"] == "call" else f"host {entry['func']}"
        self.writer.begin(plugin, name, self._time(entry), "wasm", {"args": entry["args"], "step": entry["step"]})

    def _wasm_return(self, entry: dict[str, Any]) -> None:
        plugin = self._track(PLUGINS_PID, entry["plugin"])
        depth, _ = self._callbacks.get(entry["plugin"], (0, None))
        if len(self.writer.open_slices(plugin)) > depth:  # a focused trace can return from what it did not enter
            self.writer.end(plugin, self._time(entry), {"results": entry["results"], "step": entry["step"]})

    def close(self) -> None:
        self.writer.close(self._ts)
