"""The Python API for testing proxy-wasm plugins, in one import.

Everything a test needs is here: the simulated proxy (``ProxyHost``), plugin
and stream settings, the ABI enums, and a few helpers::

    from abi.testing import Action, LogLevel, OriginResponse, proxy_host, request_headers

    def test_adds_a_header():
        host = proxy_host("filter.wasm", configuration="x-added=hello")
        stream = host.open_stream(origin=OriginResponse.make(body="hi"))
        assert stream.send_request_headers(request_headers("/"), end_of_stream=True) is Action.CONTINUE
        assert stream.upstream_request.headers.get("x-added") == "hello"
        assert host.log_messages(LogLevel.INFO, plugin="filter") == [...]

With pytest, the ``proxy_host`` fixture (registered by this package's
``pytest11`` entry point) is this same factory, and shuts the hosts it made
down after the test.

What the emulator offers, by task:

* load plugins: ``proxy_host(*wasm_or_configs, **host_settings)`` or
  ``host.load_plugin(PluginConfig(...))``; ``plugin.failure`` tells whether it
  started;
* drive a stream: ``stream.send_request_headers/body/trailers`` and, playing
  the origin, ``send_response_headers/body/trailers``; each answers the
  chain's ``Action``;
* look at it: ``stream.request_headers``, ``stream.request_body``,
  ``stream.response_headers``, ``stream.response_body``,
  ``stream.upstream_request``, ``stream.downstream_response``,
  ``stream.local_response``, ``stream.finish()`` for streams left open;
* logs by level (``host.logs(level)``, ``host.log_messages(level)``), metrics
  (``host.metric(name)``), failures (``host.failures``), the trace
  (``host.trace.callbacks()``);
* HTTP calls: ``host.add_upstream(name, [UpstreamResponse(...)])`` answers by
  itself; ``host.add_upstream(name)`` leaves calls in
  ``host.pending_http_calls`` for ``host.respond_http_call(call,
  HttpCallResponse.make(...))``;
* gRPC: ``host.add_grpc_upstream(name, {"pkg.Service/Method":
  [GrpcAnswer.make(...)]})``, or without answers ``host.pending_grpc_calls``
  with ``host.respond_grpc_call`` and ``host.grpc_stream_event``;
* time: ``host.advance(ms)`` runs ticks, delayed answers and queue
  notifications as the simulated clock passes them;
* TCP: ``proxy_host(network_plugins=[...])``, then ``host.open_connection()``
  with ``send_downstream``, ``send_upstream`` and ``close_side``;
* debug the plugins' code over a whole run: ``debug_session(make_host,
  drive)`` (breakpoints on plugin functions, host calls, callbacks, streams;
  stepping and going back across callbacks);
* services, shared data (``host.set_shared_data``, ``host.shared_data``),
  foreign functions (``host.add_foreign_function``), reconfiguration
  (``host.reconfigure(name, configuration=...)``);
* Istio and Envoy configuration: ``istio_host(*resources, workload=Workload(...))``
  and ``envoy_host(config)`` load the chains istiod or Envoy would build
  (``istio_plugins`` and ``envoy_plugins`` give the translation itself: the
  plugins, the notes, the explanation); with the fixture,
  ``proxy_host(*plugin_configs(translation, PluginKind.HTTP), ...)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from abi.debug.session import HostDebugSession, HostStop, HostStopKind
from abi.enums import (
    Action,
    BufferType,
    FailurePolicy,
    LogLevel,
    MapType,
    MetricType,
    Status,
    StreamType,
)
from abi.errors import ManifestError, PluginLoadError, ScenarioError, UsageError
from abi.frontends.istio import Direction, ServiceRef, Workload, WorkloadKind
from abi.frontends.plugin_sources import Translation
from abi.frontends.runner import plugin_config
from abi.frontends.scenario_sources import envoy_plugins, istio_plugins
from abi.proxy.connection import NetworkConnection
from abi.proxy.grpc_callouts import GrpcAnswer, GrpcCall
from abi.proxy.headers import HeaderMap
from abi.proxy.host import ProxyHost
from abi.proxy.http_callouts import HttpCall, HttpCallResponse, UpstreamResponse
from abi.proxy.http_stream import HttpStream, OriginResponse
from abi.proxy.plugins import Plugin, PluginConfig, PluginKind
from abi.proxy.records import LocalResponse, LogEntry
from abi.proxy.services import HostConfig
from abi.vm.callbacks import Failure
from abi.vm.instruments import VmInstrument

__all__ = [
    "Action", "BufferType", "Direction", "Failure", "FailurePolicy", "GrpcAnswer", "GrpcCall", "HeaderMap",
    "HostConfig", "HostDebugSession", "HostStop", "HostStopKind", "HttpCall", "HttpCallResponse", "HttpStream",
    "LocalResponse", "LogEntry", "LogLevel", "ManifestError", "MapType", "MetricType", "NetworkConnection",
    "OriginResponse", "Plugin", "PluginConfig", "PluginKind", "PluginLoadError", "ProxyHost", "ScenarioError",
    "ServiceRef", "Status", "StreamType", "Translation", "UpstreamResponse", "Workload", "WorkloadKind",
    "assert_no_failures", "callback_names", "debug_session", "envoy_host", "envoy_plugins", "host_from_translation",
    "istio_host", "istio_plugins", "plugin_configs", "proxy_host", "request_headers",
]

PluginInput = PluginConfig | str | os.PathLike[str]


def proxy_host(*plugins: PluginInput, log_level: LogLevel = LogLevel.TRACE,
               properties: Mapping[str, Any] | None = None,
               upstreams: Mapping[str, Iterable[UpstreamResponse]] | None = None,
               grpc_upstreams: Mapping[str, Mapping[str, Iterable[GrpcAnswer]]] | None = None,
               network_plugins: Iterable[PluginInput] = (), services: Iterable[PluginInput] = (),
               random_seed: int = 0, engine: str = "auto", instruments: Sequence[VmInstrument] = (),
               **plugin_settings: Any) -> ProxyHost:
    """A host with ``plugins`` loaded in order as the HTTP chain (paths, or
    ``PluginConfig``s), ``services`` first and ``network_plugins`` last.
    Tests see every log line by default (``log_level`` TRACE).
    ``plugin_settings`` (``configuration=``, ``root_id=``...) apply to
    plugins given as paths, which are named after their file's stem (or
    ``name=`` when there is one).  ``engine`` and ``instruments`` are the
    host's (``debug_session`` passes them)."""
    groups = ((services, "service"), (plugins, "http"), (network_plugins, "network"))
    resolved = [(plugin, kind) for group, kind in groups for plugin in group]
    paths = [plugin for plugin, _ in resolved if not isinstance(plugin, PluginConfig)]
    name = plugin_settings.pop("name", None)
    if name is not None and len(paths) != 1:
        raise UsageError("name= names the one plugin given as a path; use PluginConfig for several")
    host = ProxyHost(HostConfig(log_level=log_level, properties=dict(properties or {}),
                                random_seed=random_seed, engine=engine), instruments=instruments)
    for cluster, responses in (upstreams or {}).items():
        host.add_upstream(cluster, responses)
    for cluster, methods in (grpc_upstreams or {}).items():
        host.add_grpc_upstream(cluster, {method: list(answers) for method, answers in methods.items()})
    loaders = {"service": host.load_service, "http": host.load_plugin, "network": host.load_network_plugin}
    for plugin, kind in resolved:
        if not isinstance(plugin, PluginConfig):
            stem = os.path.splitext(os.path.basename(os.fspath(plugin)))[0]
            plugin = PluginConfig(name or stem, plugin, **plugin_settings)
        loaders[kind](plugin)
    return host


def plugin_configs(translation: Translation, kind: PluginKind) -> list[PluginConfig]:
    """The translated plugins of one kind, in chain order, as the host
    loads them."""
    return [plugin_config(spec) for spec in translation.of_kind(kind)]


def host_from_translation(translation: Translation, **host_settings: Any) -> ProxyHost:
    """A host with the translated chains and services loaded (the settings
    as ``proxy_host`` takes them)."""
    return proxy_host(*plugin_configs(translation, PluginKind.HTTP),
                      network_plugins=plugin_configs(translation, PluginKind.NETWORK),
                      services=plugin_configs(translation, PluginKind.SERVICE), **host_settings)


def istio_host(*resources: str | os.PathLike[str] | Mapping[str, Any], workload: Workload = Workload(),
               root_namespace: str = "istio-system", host_environment: Mapping[str, str] | None = None,
               module_files: Mapping[str, str | os.PathLike[str]] | None = None, **host_settings: Any) -> ProxyHost:
    """A host running the chains istiod would build for ``workload`` from
    ``resources`` (files of WasmPlugins, or resources as mappings), as the
    scenario's ``istio`` key does; ``host_settings`` as ``proxy_host``
    takes them."""
    return host_from_translation(istio_plugins(*resources, workload=workload, root_namespace=root_namespace,
                                               host_environment=host_environment, module_files=module_files),
                                 **host_settings)


def envoy_host(config: str | os.PathLike[str], listener: str | None = None, filter_chain: str | None = None,
               host_environment: Mapping[str, str] | None = None,
               module_files: Mapping[str, str | os.PathLike[str]] | None = None,
               **host_settings: Any) -> ProxyHost:
    """A host running the Wasm filters of an Envoy configuration's listener
    (the first, or ``listener``) and its bootstrap Wasm services."""
    return host_from_translation(envoy_plugins(config, listener, filter_chain, host_environment, module_files),
                                 **host_settings)


def debug_session(make_host: Callable[..., ProxyHost], drive: Callable[[ProxyHost], None],
                  streams: Collection[str] | None = None) -> HostDebugSession:
    """The debugger over a run a test makes: ``make_host(engine=...,
    instruments=...)`` makes a fresh host each time (``proxy_host`` takes
    both), ``drive(host)`` sends its traffic.  The session stops at the first
    instruction of the first callback (see ``abi.debug.session``)::

        session = debug_session(lambda **debugging: proxy_host("filter.wasm", **debugging),
                                lambda host: host.open_stream().send_request_headers(request_headers(), True))
        session.break_at("filter!on_request_headers")
        session.continue_()
        session.session.evaluate("count")     # the engine session of the callback
    """
    return HostDebugSession(lambda instruments: make_host(engine="python", instruments=instruments), drive,
                            streams)


def request_headers(path: str = "/", method: str = "GET", authority: str = "example.com",
                    headers: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """Request headers with the pseudo-headers a request needs, then
    ``headers``."""
    extra = headers.items() if isinstance(headers, Mapping) else headers
    return [(":method", method), (":path", path), (":authority", authority), (":scheme", "http"), *extra]


def callback_names(host: ProxyHost, plugin: str | None = None) -> list[str]:
    """The callbacks called so far, in order (of one plugin, or all)."""
    return [name for owner, name, _ in host.trace.callbacks() if plugin is None or owner == plugin]


def assert_no_failures(host: ProxyHost) -> None:
    """Fail the test with every plugin failure (and its backtrace) if any."""
    if host.failures:
        lines = []
        for failure in host.failures:
            lines.append(failure.describe())
            lines.extend(f"  {frame}" for frame in failure.backtrace)
        raise AssertionError("\n".join(lines))
