"""Running a scenario: the same stream machinery as the Python API, driven
automatically.

Plugins are loaded in order, then each stream runs to its end before the
next one starts: the client sends the request headers (``end_of_stream``
when there is no body and no trailers), each body chunk, then the trailers;
the origin answers with the stream's response once the request is complete.
Sending stops early if the stream ends on the way (a local reply).  A stream
that cannot finish is reported as stalled.  Finally the host shuts down, so
root contexts see ``proxy_on_done`` and ``proxy_on_delete``.
"""

from __future__ import annotations

from abi.host import DEFAULT_CLOCK_START_NS, HostConfig, ProxyHost
from abi.plugin import PluginConfig
from abi.scenario import RequestSpec, Scenario
from abi.stream import HttpStream


def host_for(scenario: Scenario, engine: str = "auto", trace_instructions: bool = False) -> ProxyHost:
    """A host set up as the scenario says, plugins loaded, no traffic yet."""
    host = ProxyHost(HostConfig(
        log_level=scenario.log_level,
        properties=dict(scenario.properties),
        clock_start_ns=scenario.clock_start_ns if scenario.clock_start_ns is not None else DEFAULT_CLOCK_START_NS,
        random_seed=scenario.random_seed,
        engine=engine,
        trace_instructions=trace_instructions,
    ))
    for cluster, responses in scenario.upstreams:
        host.add_upstream(cluster, responses)
    for spec in scenario.plugins:
        host.load_plugin(PluginConfig(
            name=spec.name,
            wasm=spec.wasm,
            root_id=spec.root_id,
            vm_id=spec.vm_id,
            configuration=spec.configuration,
            vm_configuration=spec.vm_configuration,
            environment=dict(spec.environment),
            failure_policy=spec.failure,
            fuel_per_callback=spec.fuel,
            label=spec.wasm_as_written,
        ))
    return host


def run_scenario(scenario: Scenario, engine: str = "auto", trace_instructions: bool = False) -> ProxyHost:
    """Run every stream of the scenario and shut the host down; the host
    holds everything that happened (``host.report()``)."""
    host = host_for(scenario, engine, trace_instructions)
    for spec in scenario.streams:
        stream = host.open_stream(spec.name, spec.response, dict(spec.properties))
        send_request(stream, spec.request)
        stream.finish()
    host.shutdown()
    return host


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
