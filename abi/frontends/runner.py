"""Running a scenario: the same proxy as the Python API, driven by the
scenario's timeline.

1. The host is set up: clusters, foreign functions, initial shared data,
   then the plugins (services, the HTTP chain, the network chain, in that
   order), each started and configured.
2. Streams and connections with ``at_ms`` are scheduled at that time (from
   the start of the run) and run alongside everything else.
3. The ``streams`` timeline runs item by item: a stream is opened, the client
   sends its request headers (``end_of_stream`` when there is no body and no
   trailers), each body chunk, then the trailers — stopping early if the
   stream ends on the way (a local reply) — and the proxy runs until the
   stream has ended (or is stalled, see ``abi.proxy.http_stream``) before the
   next item; ``wait_ms`` lets simulated time pass; ``reconfigure`` gives a
   plugin a new configuration.
4. Then the ``connections`` without ``at_ms`` run one after another, each
   event when the connection has settled after the one before.
5. Once everything scheduled has started, the host shuts down: streams and
   connections still open are finished (stalled when held), then every root
   context gets ``proxy_on_done`` and ``proxy_on_delete``.
"""

from __future__ import annotations

from collections.abc import Sequence

from abi.proxy.connection import NetworkConnection, Side
from abi.proxy.foreign_functions import CANNED, ForeignFunction, answering, returning
from abi.proxy.host import ProxyHost
from abi.proxy.http_stream import HttpStream
from abi.proxy.plugins import PluginConfig, PluginKind
from abi.proxy.services import DEFAULT_CLOCK_START_NS, DEFAULT_STALL_AFTER_MS, HostConfig
from abi.trace import Trace
from abi.vm.instruments import VmInstrument
from abi.frontends.scenario import (
    ConnectionSpec,
    PluginSpec,
    ReconfigureStep,
    RequestSpec,
    Scenario,
    StreamSpec,
    WaitStep,
)

NS_PER_MS = 1_000_000


def plugin_config(spec: PluginSpec) -> PluginConfig:
    return PluginConfig(name=spec.name, wasm=spec.wasm, root_id=spec.root_id, vm_id=spec.vm_id,
                        configuration=spec.configuration, vm_configuration=spec.vm_configuration,
                        environment=dict(spec.environment), failure_policy=spec.failure,
                        fuel_per_callback=spec.fuel, label=spec.wasm_as_written, origin=spec.origin)


def foreign_function(behaviour: object) -> ForeignFunction:
    if isinstance(behaviour, str):
        return CANNED[behaviour]
    kind, value = behaviour  # type: ignore[misc]
    return returning(value) if kind == "result" else answering(value)


def host_for(scenario: Scenario, engine: str = "auto", trace: Trace | None = None,
             instruments: Sequence[VmInstrument] = ()) -> ProxyHost:
    """A host set up as the scenario says, plugins loaded, no traffic yet
    (``instruments``: ``abi.vm.instruments``)."""
    host = ProxyHost(HostConfig(
        log_level=scenario.log_level,
        properties=dict(scenario.properties),
        clock_start_ns=scenario.clock_start_ns if scenario.clock_start_ns is not None else DEFAULT_CLOCK_START_NS,
        stall_after_ms=scenario.stall_after_ms if scenario.stall_after_ms is not None else DEFAULT_STALL_AFTER_MS,
        random_seed=scenario.random_seed,
        limits=scenario.limits,
        engine=engine,
    ), trace, instruments)
    for cluster, responses in scenario.upstreams:
        host.add_upstream(cluster, responses)
    for cluster, methods in scenario.grpc_upstreams:
        host.add_grpc_upstream(cluster, dict(methods))
    for name, behaviour in scenario.foreign_functions:
        host.add_foreign_function(name, foreign_function(behaviour))
    for vm_id, entries in scenario.shared_data:
        for key, value in entries:
            host.set_shared_data(vm_id, key, value)
    loaders = {PluginKind.SERVICE: host.load_service, PluginKind.HTTP: host.load_plugin,
               PluginKind.NETWORK: host.load_network_plugin}
    for spec in (*scenario.services, *scenario.plugins, *scenario.network_plugins):
        loaders[spec.kind](plugin_config(spec))
    return host


def run_scenario(scenario: Scenario, engine: str = "auto", trace: Trace | None = None,
                 instruments: Sequence[VmInstrument] = ()) -> ProxyHost:
    """Run the scenario's timeline and shut the host down; the host holds
    everything that happened (``abi.frontends.report.build_report``).
    ``trace``: where the trace goes (default: kept in memory)."""
    host = host_for(scenario, engine, trace, instruments)
    run_timeline(host, scenario)
    return host


def run_timeline(host: ProxyHost, scenario: Scenario) -> None:
    """Run the scenario's timeline on ``host`` (made by ``host_for``), then
    shut it down."""
    scheduler = host.services.scheduler
    scheduled: list[bool] = []

    def at(time_ms: int, start: object) -> None:
        flag = len(scheduled)
        scheduled.append(False)

        def run() -> None:
            scheduled[flag] = True
            start()  # type: ignore[operator]

        scheduler.at(time_ms * NS_PER_MS, run, "scenario: scheduled traffic")

    for item in scenario.timeline:
        if isinstance(item, StreamSpec) and item.at_ms is not None:
            at(item.at_ms, lambda item=item: start_stream(host, item))
    for connection in scenario.connections:
        if connection.at_ms is not None:
            at(connection.at_ms, lambda connection=connection: ConnectionScript(host, connection).start())
    for item in scenario.timeline:
        if isinstance(item, StreamSpec):
            if item.at_ms is None:
                stream = host.open_stream(item.name, item.response, dict(item.properties))
                send_request(stream, item.request)
                stream.finish()
        elif isinstance(item, WaitStep):
            host.advance(item.wait_ms)
        elif isinstance(item, ReconfigureStep):
            host.reconfigure(item.plugin, item.configuration, item.vm_configuration)
    for connection in scenario.connections:
        if connection.at_ms is None:
            script = ConnectionScript(host, connection)
            scheduler.soon(script.start, f"scenario: connection {connection.name}")
            while not script.done and scheduler.run_next():
                pass
            if script.connection is not None:
                script.connection.finish()
    while not all(scheduled) and scheduler.run_next():
        pass
    host.shutdown()


def start_stream(host: ProxyHost, spec: StreamSpec) -> HttpStream:
    """Open a stream and have the client send its whole request (from a
    scheduled task: the proxy moves it as the scheduler runs)."""
    stream = host.open_stream(spec.name, spec.response, dict(spec.properties))
    request = spec.request
    has_trailers = bool(request.trailers)
    stream.client_sends_headers(request.headers, end_of_stream=not request.body and not has_trailers)
    for index, chunk in enumerate(request.body):
        stream.client_sends_body(chunk, end_of_stream=index == len(request.body) - 1 and not has_trailers)
    if has_trailers:
        stream.client_sends_trailers(request.trailers)
    return stream


def send_request(stream: HttpStream, request: RequestSpec) -> None:
    """The client's side of a stream: headers, body chunks, trailers."""
    has_trailers = bool(request.trailers)
    stream.send_request_headers(request.headers, end_of_stream=not request.body and not has_trailers)
    for index, chunk in enumerate(request.body):
        if stream.completed:
            return
        stream.send_request_body(chunk, end_of_stream=index == len(request.body) - 1 and not has_trailers)
    if has_trailers and not stream.completed:
        stream.send_request_trailers(request.trailers)


class ConnectionScript:
    """A connection's events, each sent once the connection has settled after
    the one before (as scheduled tasks)."""

    def __init__(self, host: ProxyHost, spec: ConnectionSpec) -> None:
        self.host = host
        self.spec = spec
        self.connection: NetworkConnection | None = None
        self.position = 0
        self.done = False

    def start(self) -> None:
        self.connection = self.host.open_connection(self.spec.name, dict(self.spec.properties), drive=False)
        self._schedule_step()

    def _schedule_step(self, delay_ms: int = 0) -> None:
        self.host.services.scheduler.after(delay_ms * NS_PER_MS, self._step,
                                           f"scenario: connection {self.spec.name} event {self.position}")

    def _step(self) -> None:
        connection = self.connection
        if connection is None or connection.completed or self.position >= len(self.spec.events):
            self.done = True
            return
        if connection.busy:
            self._schedule_step()
            return
        event = self.spec.events[self.position]
        self.position += 1
        if event.kind == "wait":
            self._schedule_step(event.wait_ms)
            return
        closed = connection.downstream_closed is not None
        if event.kind == "close":
            if not closed:
                connection.peer_closes(Side(event.side))
        elif not closed and (connection.upstream_closed is None or event.kind == "downstream"):
            if event.kind == "downstream":
                connection.client_sends(event.data, event.end_of_stream)
            else:
                connection.origin_sends(event.data, event.end_of_stream)
        self._schedule_step()
