"""``ProxyHost``: the simulated Envoy that plugins run in.

It puts the simulated proxy together: the services (``abi.proxy.services``:
one scheduler and clock, the log, stats, shared data and queues, foreign
functions, HTTP and gRPC callouts), the plugins and their VMs
(``abi.proxy.plugins``: the HTTP filter chain, the network filter chain and
the services), and the traffic: HTTP streams (``abi.proxy.http_stream``) and
TCP connections (``abi.proxy.connection``).

The clock is deterministic: it starts at ``clock_start_ns`` (default
2024-01-01T00:00:00Z), moves ``callback_step_ns`` (1 ms) forward before every
callback into a plugin, ``clock_tick_ns`` (1 µs) after every read —
``proxy_get_current_time_nanoseconds`` and WASI's ``clock_time_get`` read the
same clock, and WASI's ``poll_oneoff`` sleeps move it — and jumps to the time
of the next scheduled work when the host is told to wait (``advance``).
The same input thus always shows the same times, and durations reflect how
much work happened.

Every method that feeds the proxy (``send_*`` on a stream, ``respond_*``,
``advance``...) runs the work that falls due before it returns, so after any
call the state can be inspected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from abi.context_interface import StatusError
from abi.enums import LogLevel
from abi.errors import UsageError
from abi.proxy.callbacks import CalloutDelivery
from abi.proxy.connection import NetworkConnection
from abi.proxy.foreign_functions import ForeignFunction
from abi.proxy.grpc_callouts import GrpcAnswer, GrpcCall, GrpcCluster
from abi.proxy.http_callouts import HttpCall, HttpCallResponse, Upstream, UpstreamResponse
from abi.proxy.http_stream import HttpStream, OriginResponse
from abi.proxy.plugins import Plugin, PluginConfig, PluginKind, PluginLink, PluginSet, Reconfiguration
from abi.proxy.properties import dotted_path
from abi.proxy.records import LogEntry
from abi.proxy.services import HostConfig, ProxyServices
from abi.trace import Trace
from abi.vm.callbacks import Failure
from abi.vm.instruments import VmInstrument
from abi.wire.text import as_bytes

NS_PER_MS = 1_000_000


class ProxyHost:
    """The simulated proxy.  Load plugins (the HTTP chain in request order,
    the network chain, services), declare upstream clusters, then open
    streams and connections.  ``trace`` is where callbacks, host calls and
    events go (by default: kept in memory, ``host.trace.entries``);
    ``instruments`` watch or drive the plugins' code (``abi.vm.instruments``:
    the profiler, focused instruction traces, the debugger)::

        host = ProxyHost()
        host.add_upstream("auth", [UpstreamResponse(200, body=b"alice")])
        host.load_plugin(PluginConfig("auth", "auth.wasm"))
        stream = host.open_stream(origin=OriginResponse.make(body="hello"))
        stream.send_request_headers({":method": "GET", ":path": "/", ":authority": "x"}, end_of_stream=True)
    """

    def __init__(self, config: HostConfig | None = None, trace: Trace | None = None,
                 instruments: Sequence[VmInstrument] = ()) -> None:
        self.config = config or HostConfig()
        self.failures: list[Failure] = []
        self.services = ProxyServices(self.config, self._record_failure, trace, instruments)
        self.plugin_set = PluginSet(self.services)
        self.streams: list[HttpStream] = []
        self.connections: list[NetworkConnection] = []
        self.active_streams: list[HttpStream] = []
        self.active_connections: list[NetworkConnection] = []
        self.shut_down = False

    # --- shortcuts to the services ---------------------------------------------------------

    @property
    def trace(self) -> Trace:
        return self.services.trace

    @property
    def scheduler(self) -> Any:
        return self.services.scheduler

    @property
    def now_ms(self) -> float:
        """Simulated time since the host started, in milliseconds."""
        return self.services.scheduler.now_ns / NS_PER_MS

    def clock_now(self) -> int:
        return self.services.scheduler.wall_time_ns()

    # --- setting up -------------------------------------------------------------------------

    def add_upstream(self, name: str, responses: Iterable[UpstreamResponse] = ()) -> Upstream:
        """Declare a cluster for ``proxy_http_call``.  Without responses, its
        calls wait for ``respond_http_call``."""
        upstream = Upstream(name, list(responses))
        self.services.http_callouts.add_upstream(upstream)
        return upstream

    def add_grpc_upstream(self, name: str, methods: Mapping[str, Sequence[GrpcAnswer]] | None = None) -> GrpcCluster:
        """Declare a gRPC cluster: canned answers per ``package.Service/Method``;
        without any, its calls wait for ``respond_grpc_call`` /
        ``grpc_stream_event``."""
        cluster = GrpcCluster(name, dict(methods or {}))
        self.services.grpc_callouts.add_cluster(cluster)
        return cluster

    def add_foreign_function(self, name: str, function: ForeignFunction) -> None:
        """Register (or replace) a function ``proxy_call_foreign_function``
        can call: bytes in, bytes (or a ``Status``) out."""
        self.services.foreign_functions.register(name, function)

    def set_shared_data(self, vm_id: str, key: str | bytes, value: str | bytes) -> None:
        """Write shared data as a plugin of ``vm_id`` would (cas 0)."""
        self.services.shared_data.set(vm_id.encode("utf-8"), as_bytes(key), as_bytes(value), 0)

    def _check_loadable(self, config: PluginConfig) -> None:
        if self.shut_down:
            raise UsageError("the host has been shut down")
        if self.plugin_set.link(config.name) is not None:
            raise UsageError(f"there is already a plugin named {config.name!r}")

    def load_plugin(self, config: PluginConfig) -> Plugin:
        """Load, start and configure an HTTP filter at the end of the chain.
        ``PluginLoadError`` if the module cannot be a plugin; a plugin that
        fails to start is returned with ``failure`` set."""
        if self.streams:
            raise UsageError("load every HTTP plugin before opening streams: the chain is fixed once traffic "
                             "flows")
        return self._load(PluginKind.HTTP, config)

    def load_network_plugin(self, config: PluginConfig) -> Plugin:
        """A network (TCP) filter at the end of the network chain."""
        if self.connections:
            raise UsageError("load every network plugin before opening connections")
        return self._load(PluginKind.NETWORK, config)

    def load_service(self, config: PluginConfig) -> Plugin:
        """A service: a plugin with only a root context, outside any chain
        (Envoy's bootstrap Wasm service)."""
        return self._load(PluginKind.SERVICE, config)

    def _load(self, kind: PluginKind, config: PluginConfig) -> Plugin:
        self._check_loadable(config)
        plugin = self.plugin_set.load(kind, config)
        self.services.scheduler.run_due()
        return plugin

    def link(self, name: str) -> PluginLink:
        link = self.plugin_set.link(name)
        if link is None:
            raise UsageError(f"no plugin named {name!r}")
        return link

    def plugin(self, name: str) -> Plugin:
        """The current plugin of that name."""
        return self.link(name).current

    @property
    def plugins(self) -> list[Plugin]:
        """The HTTP filter chain's current plugins, in request order."""
        return [link.current for link in self.plugin_set.links_of(PluginKind.HTTP)]

    @property
    def network_plugins(self) -> list[Plugin]:
        return [link.current for link in self.plugin_set.links_of(PluginKind.NETWORK)]

    @property
    def services_plugins(self) -> list[Plugin]:
        return [link.current for link in self.plugin_set.links_of(PluginKind.SERVICE)]

    def reconfigure(self, name: str, configuration: Any = None, vm_configuration: Any = None) -> Reconfiguration:
        """Give plugin ``name`` a new configuration (``None`` keeps the
        current one); see ``abi.proxy.plugins`` for what happens."""
        link = self.link(name)
        current = link.config
        result = self.plugin_set.reconfigure(
            link, current.configuration if configuration is None else configuration,
            current.vm_configuration if vm_configuration is None else vm_configuration)
        self.services.scheduler.run_due()
        return result

    # --- traffic ------------------------------------------------------------------------------

    def _traffic_name(self, name: str | None, prefix: str, count: int) -> str:
        if self.shut_down:
            raise UsageError("the host has been shut down")
        chosen = name if name is not None else f"{prefix}-{count + 1}"
        if any(existing.name == chosen for existing in [*self.streams, *self.connections]):
            raise UsageError(f"there is already a stream or connection named {chosen!r}")
        return chosen

    def _ready(self, kind: PluginKind) -> list[Plugin]:
        return [self.plugin_set.ready(link) for link in self.plugin_set.links_of(kind)]

    def open_stream(self, name: str | None = None, origin: OriginResponse | None = None,
                    properties: Mapping[str, Any] | None = None) -> HttpStream:
        """A new stream through the HTTP chain.  With ``origin`` the origin
        answers by itself once the request is complete; without, use
        ``send_response_*``.  ``properties`` are this stream's own."""
        stream_name = self._traffic_name(name, "stream", len(self.streams))
        stream = HttpStream(self.services, stream_name, len(self.streams) + len(self.connections) + 1,
                            self._ready(PluginKind.HTTP), origin,
                            {dotted_path(key): value for key, value in (properties or {}).items()}, self._stream_ended)
        self.streams.append(stream)
        self.active_streams.append(stream)
        self.services.trace.event("stream_open", stream_name)
        return stream

    def open_connection(self, name: str | None = None, properties: Mapping[str, Any] | None = None,
                        drive: bool = True) -> NetworkConnection:
        """A new TCP connection through the network chain; its plugins see
        it open (``proxy_on_new_connection``) before this returns."""
        connection_name = self._traffic_name(name, "connection", len(self.connections))
        connection = NetworkConnection(self.services, connection_name,
                                       len(self.streams) + len(self.connections) + 1, self._ready(PluginKind.NETWORK),
                                       {dotted_path(key): value for key, value in (properties or {}).items()},
                                       self._connection_ended)
        self.connections.append(connection)
        self.active_connections.append(connection)
        self.services.trace.event("connection_open", connection_name)
        if drive:
            self.services.scheduler.run_due()
        return connection

    def _stream_ended(self, stream: HttpStream) -> None:
        if stream in self.active_streams:
            self.active_streams.remove(stream)
        self._release([slot.plugin for slot in stream.slots])

    def _connection_ended(self, connection: NetworkConnection) -> None:
        if connection in self.active_connections:
            self.active_connections.remove(connection)
        self._release([slot.plugin for slot in connection.slots])

    def _release(self, plugins: list[Plugin]) -> None:
        for plugin in plugins:
            if plugin.superseded and plugin.open_streams == 0:
                self.services.scheduler.soon(lambda plugin=plugin: self.plugin_set.release(plugin),
                                             f"release {plugin.name}")

    # --- time -----------------------------------------------------------------------------------

    def advance(self, milliseconds: float) -> None:
        """Let simulated time pass, running whatever falls due (ticks, delayed
        answers, queue notifications, scheduled traffic)."""
        if milliseconds < 0:
            raise UsageError("time only moves forward")
        scheduler = self.services.scheduler
        scheduler.advance_to(scheduler.now_ns + int(milliseconds * NS_PER_MS))

    def run_due(self) -> None:
        """Run the work due now."""
        self.services.scheduler.run_due()

    # --- callouts by hand --------------------------------------------------------------------------

    @property
    def http_calls(self) -> list[HttpCall]:
        return self.services.http_callouts.calls

    @property
    def pending_http_calls(self) -> list[HttpCall]:
        """Calls to clusters without canned answers, waiting to be answered."""
        return self.services.http_callouts.pending

    def respond_http_call(self, call: HttpCall, response: HttpCallResponse | None = None) -> None:
        """Answer a pending call (``HttpCallResponse.make(...)``, or
        ``HttpCallResponse.reset()`` to fail it); the plugin's
        ``proxy_on_http_call_response`` runs now."""
        self.services.http_callouts.respond(call, response or HttpCallResponse.make())
        self.services.scheduler.run_due()

    @property
    def grpc_calls(self) -> list[GrpcCall]:
        return self.services.grpc_callouts.calls

    @property
    def pending_grpc_calls(self) -> list[GrpcCall]:
        """gRPC calls and streams waiting for answers given by hand."""
        return self.services.grpc_callouts.pending

    def respond_grpc_call(self, call: GrpcCall, message: str | bytes = b"", status: int = 0,
                          status_message: str = "") -> None:
        """Answer a unary gRPC call: its reply message, or a non-zero status."""
        self.services.grpc_callouts.respond(call, as_bytes(message), status, status_message)
        self.services.scheduler.run_due()

    def grpc_stream_event(self, call: GrpcCall, event: str, value: Any = None, status: int = 0,
                          status_message: str = "") -> None:
        """Play the server of a gRPC stream: ``initial_metadata`` (a header
        mapping), ``message`` (bytes), ``trailing_metadata``, ``close``."""
        self.services.grpc_callouts.stream_event(call, event, value, status, status_message)
        self.services.scheduler.run_due()

    def call_plugin_foreign_function(self, name: str, function_id: int, arguments: str | bytes) -> None:
        """Call the plugin's ``proxy_on_foreign_function(root, function_id,
        size)`` with ``arguments`` in its FOREIGN_FUNCTION_ARGUMENTS buffer."""
        plugin = self.plugin(name)
        if plugin.root is None:
            raise UsageError(f"plugin {name!r} has no root context")
        data = as_bytes(arguments)
        self.services.scheduler.soon(
            lambda: self.services.runner.deliver(plugin.root, CalloutDelivery(foreign_arguments=data),
                                                 "proxy_on_foreign_function", [function_id, len(data)]),
            f"foreign function call into {name}")
        self.services.scheduler.run_due()

    # --- the end ------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """End the run: finish streams and connections still open (reported
        stalled when held), then every root context — ``proxy_on_done``, and
        ``proxy_on_delete`` unless the plugin answered false (then it must
        call ``proxy_done``)."""
        if self.shut_down:
            return
        for stream in list(self.active_streams):
            stream.finish()
        for connection in list(self.active_connections):
            connection.finish()
        self.shut_down = True
        self.services.scheduler.soon(self.plugin_set.shut_down, "shut down the plugins")
        self.services.scheduler.run_due()
        self.plugin_set.flush_output()

    # --- results -------------------------------------------------------------------------------

    def _record_failure(self, failure: Failure) -> None:
        """A plugin failed: record it, and let every open stream and
        connection move, since the failure policy may release what the
        plugin held."""
        self.failures.append(failure)
        for traffic in [*self.active_streams, *self.active_connections]:
            traffic.schedule_pump()
        self.services.trace.event("plugin_failed", failure.stream, plugin=failure.plugin,
                                  callback=failure.callback, error=failure.error,
                                  backtrace=list(failure.backtrace))

    def logs(self, level: LogLevel | None = None, plugin: str | None = None) -> list[LogEntry]:
        """Kept log lines, optionally only of one level and/or one plugin."""
        return self.services.logs.select(level, plugin)

    def log_messages(self, level: LogLevel | None = None, plugin: str | None = None) -> list[str]:
        return [entry.message for entry in self.logs(level, plugin)]

    def metric(self, name: str) -> int | dict | None:
        """A metric's reported value (``None`` if never defined)."""
        metric = self.services.metrics.get(name)
        return metric.report_value() if metric is not None else None

    def shared_data(self, vm_id: str, key: str) -> tuple[bytes, int] | None:
        """A shared data entry (value, cas), or ``None``."""
        try:
            return self.services.shared_data.get(vm_id.encode("utf-8"), as_bytes(key))
        except StatusError:
            return None
