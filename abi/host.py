"""``ProxyHost``: the simulated Envoy that plugins run in.

It holds what is shared by the whole proxy: the filter chain (plugins, each
in its own VM), the simulated upstream clusters, properties, the stats
store, the log, the failures, the trace and one simulated clock.

The clock is deterministic: it starts at ``clock_start_ns`` (default
2024-01-01T00:00:00Z), moves ``callback_step_ns`` (1 ms) forward before every
callback into a plugin, and ``clock_tick_ns`` (1 µs) after every read —
``proxy_get_current_time_nanoseconds`` and WASI's ``clock_time_get`` read the
same clock, and WASI's ``poll_oneoff`` sleeps move it.  The same input thus
always shows the same times, and durations reflect how much work happened.

Logging: a line is kept when its level is at least ``log_level`` (default
``info``, Envoy's default), which is also what ``proxy_get_log_level`` says.

Everything the plugins do happens inside calls on the host or on a stream;
deferred actions and HTTP call answers are worked off before those calls
return (``settle``), so after any call the state can be inspected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from abi.enums import LogLevel
from abi.errors import UsageError
from abi.http_calls import HttpCall, HttpCallDispatcher, HttpCallResponse, Upstream, UpstreamResponse
from abi.metrics import MetricStore
from abi.plugin import CallbackOutcome, CallbackPhase, Context, Plugin, PluginConfig
from abi.properties import PropertyPath, default_address, dotted_path, encode_value, lookup_in, stream_attribute
from abi.records import Failure, LogEntry
from abi.stream import HttpStream, OriginResponse
from abi.trace import Trace
from interp.wasi import ClockId, SimulatedClock

DEFAULT_CLOCK_START_NS = 1_704_067_200_000_000_000
DEFAULT_CLOCK_TICK_NS = 1_000
DEFAULT_CALLBACK_STEP_NS = 1_000_000


@dataclass(frozen=True)
class HostConfig:
    """Settings of the simulated proxy.  ``properties`` maps dotted paths
    (``"source.address"``) to values (see ``abi.properties``)."""

    log_level: LogLevel = LogLevel.INFO
    properties: Mapping[str, Any] = field(default_factory=dict)
    clock_start_ns: int = DEFAULT_CLOCK_START_NS
    clock_tick_ns: int = DEFAULT_CLOCK_TICK_NS
    callback_step_ns: int = DEFAULT_CALLBACK_STEP_NS
    random_seed: int = 0
    engine: str = "auto"  # the engine running every plugin VM (interp/exec/engines.py)
    trace_instructions: bool = False  # also trace every instruction (on the step machine)


class ProxyHost:
    """The simulated proxy.  Load plugins (the chain, in request order),
    declare upstream clusters, then open streams::

        host = ProxyHost()
        host.add_upstream("auth", [UpstreamResponse(200, body=b"alice")])
        host.load_plugin(PluginConfig("auth", "auth.wasm"))
        stream = host.open_stream(origin=OriginResponse.make(body="hello"))
        stream.send_request_headers({":method": "GET", ":path": "/", ":authority": "x"}, end_of_stream=True)
    """

    def __init__(self, config: HostConfig | None = None) -> None:
        self.config = config or HostConfig()
        self.clock = SimulatedClock(self.config.clock_start_ns, self.config.clock_tick_ns)
        self.trace = Trace()
        self.metrics = MetricStore()
        self.http_calls = HttpCallDispatcher(self)
        self.plugins: list[Plugin] = []
        self.streams: list[HttpStream] = []
        self.active_streams: list[HttpStream] = []
        self.failures: list[Failure] = []
        self.properties: dict[PropertyPath, Any] = {dotted_path(key): value
                                                    for key, value in self.config.properties.items()}
        self._logs: list[LogEntry] = []
        self._settling = False
        self.shut_down = False

    # --- setting up ---------------------------------------------------------------------

    def add_upstream(self, name: str, responses: Iterable[UpstreamResponse] = ()) -> Upstream:
        """Declare a cluster for ``proxy_http_call``.  Without responses, its
        calls wait for ``respond_http_call``."""
        upstream = Upstream(name, list(responses))
        self.http_calls.add_upstream(upstream)
        return upstream

    def load_plugin(self, config: PluginConfig) -> Plugin:
        """Load, start and configure a plugin at the end of the chain.
        ``PluginLoadError`` if the module cannot be a plugin; a plugin that
        fails to start is returned with ``failure`` set."""
        if self.streams:
            raise UsageError("load every plugin before opening streams: the chain is fixed once traffic flows")
        if any(plugin.name == config.name for plugin in self.plugins):
            raise UsageError(f"there is already a plugin named {config.name!r}")
        plugin = Plugin(self, config, len(self.plugins))
        self.plugins.append(plugin)
        self.trace.event("plugin_load", None, plugin=plugin.name, abi_version=plugin.abi_version.value)
        if not plugin.failed:
            plugin.start()
        self.settle()
        return plugin

    def plugin(self, name: str) -> Plugin:
        for plugin in self.plugins:
            if plugin.name == name:
                return plugin
        raise UsageError(f"no plugin named {name!r}")

    # --- traffic ------------------------------------------------------------------------

    def open_stream(self, name: str | None = None, origin: OriginResponse | None = None,
                    properties: Mapping[str, Any] | None = None) -> HttpStream:
        """A new stream through the chain.  With ``origin`` the origin answers
        by itself once the request is complete; without, use
        ``send_response_*``.  ``properties`` are this stream's own."""
        if self.shut_down:
            raise UsageError("the host has been shut down")
        stream_name = name if name is not None else f"stream-{len(self.streams) + 1}"
        if any(stream.name == stream_name for stream in self.streams):
            raise UsageError(f"there is already a stream named {stream_name!r}")
        stream = HttpStream(self, stream_name, len(self.streams) + 1, origin,
                            {dotted_path(key): value for key, value in (properties or {}).items()})
        self.streams.append(stream)
        self.active_streams.append(stream)
        self.trace.event("stream_open", stream_name)
        return stream

    def stream_ended(self, stream: HttpStream) -> None:
        if stream in self.active_streams:
            self.active_streams.remove(stream)

    @property
    def pending_http_calls(self) -> list[HttpCall]:
        """Calls to clusters without canned answers, waiting to be answered."""
        return self.http_calls.pending

    def respond_http_call(self, call: HttpCall, response: HttpCallResponse | None = None) -> None:
        """Answer a pending call (``HttpCallResponse.make(...)``, or
        ``HttpCallResponse.reset()`` to fail it); the plugin's
        ``proxy_on_http_call_response`` runs now."""
        self.http_calls.respond(call, response or HttpCallResponse.make())

    def shutdown(self) -> None:
        """End the run: finish streams still open (reported stalled), then
        the root contexts — ``proxy_on_done``, and ``proxy_on_delete`` unless
        the plugin answered false (then it must call ``proxy_done``)."""
        if self.shut_down:
            return
        for stream in list(self.active_streams):
            stream.finish()
        self.shut_down = True
        for plugin in self.plugins:
            root = plugin.root_context
            if root is None or plugin.failed:
                continue
            outcome = plugin.call("proxy_on_done", root, [root.id], CallbackPhase.TEARDOWN)
            if outcome.failed:
                continue
            if outcome.result == 0:
                plugin.root_done_pending = True
                self.trace.event("root_done_pending", None, plugin=plugin.name)
                self.apply(outcome)
                self.settle()
            else:
                self.apply(outcome)
                self.delete_root_context(plugin)
        for plugin in self.plugins:
            plugin.flush_output()

    def delete_root_context(self, plugin: Plugin) -> None:
        root = plugin.root_context
        if root is None or root.id not in plugin.contexts:
            return
        if not plugin.failed:
            self.apply(plugin.call("proxy_on_delete", root, [root.id], CallbackPhase.TEARDOWN))
        plugin.forget_context(root)
        self.settle()

    # --- working off what callbacks started -----------------------------------------------

    def apply(self, outcome: CallbackOutcome) -> None:
        """Run the actions a callback deferred to its return."""
        for action in outcome.deferred:
            action()

    def settle(self) -> None:
        """Deliver answered HTTP calls, then move every stream as far as it
        goes (a plugin that failed may release streams it held)."""
        self.http_calls.deliver_ready()
        if self._settling:
            return
        self._settling = True
        try:
            for stream in list(self.active_streams):
                stream.pump()
        finally:
            self._settling = False

    # --- services for plugins ---------------------------------------------------------------

    def record_log(self, entry: LogEntry) -> None:
        if entry.level >= self.config.log_level:
            self._logs.append(entry)

    def record_failure(self, failure: Failure) -> None:
        self.failures.append(failure)
        self.trace.event("plugin_failed", failure.stream, plugin=failure.plugin, callback=failure.callback,
                         error=failure.error, backtrace=list(failure.backtrace))

    def read_clock(self) -> int:
        """The time a plugin reads (the clock then moves one tick)."""
        return self.clock.read(ClockId.REALTIME)

    def clock_now(self) -> int:
        return self.clock.now(ClockId.REALTIME)

    def advance_clock_for_callback(self) -> None:
        self.clock.advance_to(self.clock.elapsed_ns + self.config.callback_step_ns)

    def property_value(self, plugin: Plugin, context: Context | None, path: PropertyPath) -> bytes | None:
        """The encoded value of a property as ``context`` sees it, or ``None``
        (see ``abi.properties`` for the order of sources)."""
        if not path:
            return None
        stream = context.slot.stream if context is not None and context.slot is not None else None
        layers: list[Mapping[PropertyPath, Any]] = []
        if stream is not None:
            layers += [stream.plugin_properties, stream.scenario_properties]
        layers.append(self.properties)
        for layer in layers:
            found, value = lookup_in(layer, path)
            if found:
                return encode_value(value)
        value = self._derived_property(plugin, stream, layers, path)
        return None if value is None else encode_value(value)

    def _derived_property(self, plugin: Plugin, stream: HttpStream | None,
                          layers: list[Mapping[PropertyPath, Any]], path: PropertyPath) -> Any:
        plugin_values = {("plugin_name",): plugin.name, ("plugin_root_id",): plugin.config.root_id,
                         ("plugin_vm_id",): plugin.config.vm_id}
        if path in plugin_values:
            return plugin_values[path]
        if stream is None:
            return None

        def address_of(peer: str) -> str:
            for layer in layers:
                found, value = lookup_in(layer, (peer, "address"))
                if found and isinstance(value, str):
                    return value
            return default_address(peer)

        return stream_attribute(stream, path, address_of)

    # --- results -------------------------------------------------------------------------------

    def logs(self, level: LogLevel | None = None, plugin: str | None = None) -> list[LogEntry]:
        """Kept log lines, optionally only of one level and/or one plugin."""
        return [entry for entry in self._logs
                if (level is None or entry.level is level) and (plugin is None or entry.plugin == plugin)]

    def log_messages(self, level: LogLevel | None = None, plugin: str | None = None) -> list[str]:
        return [entry.message for entry in self.logs(level, plugin)]

    def metric(self, name: str) -> int | dict | None:
        """A metric's reported value (``None`` if never defined)."""
        metric = self.metrics.get(name)
        return metric.report_value() if metric is not None else None

    def report(self) -> dict[str, Any]:
        from abi.report import build_report

        return build_report(self)
