"""glasswasm's proxy-wasm host: runs Envoy/Istio-style HTTP filter plugins
(ABI 0.2.0 and 0.2.1) against a simulated, deterministic proxy.

The names below load their modules on first use, so that importing ``abi``
(as the ``glasswasm`` command does to build its parser) costs nothing::

    from abi import ProxyHost, PluginConfig, OriginResponse, LogLevel
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Action": "abi.enums",
    "AbiVersion": "abi.enums",
    "BufferType": "abi.enums",
    "FailurePolicy": "abi.enums",
    "LogLevel": "abi.enums",
    "MapType": "abi.enums",
    "MetricType": "abi.enums",
    "Status": "abi.enums",
    "StreamType": "abi.enums",
    "PluginLoadError": "abi.errors",
    "ProxyWasmError": "abi.errors",
    "ScenarioError": "abi.errors",
    "HeaderMap": "abi.proxy.headers",
    "HostConfig": "abi.proxy.services",
    "ProxyHost": "abi.proxy.host",
    "HttpCall": "abi.proxy.http_callouts",
    "HttpCallResponse": "abi.proxy.http_callouts",
    "UpstreamResponse": "abi.proxy.http_callouts",
    "GrpcAnswer": "abi.proxy.grpc_callouts",
    "GrpcCall": "abi.proxy.grpc_callouts",
    "NetworkConnection": "abi.proxy.connection",
    "Plugin": "abi.proxy.plugins",
    "PluginConfig": "abi.proxy.plugins",
    "Failure": "abi.vm.callbacks",
    "LocalResponse": "abi.proxy.records",
    "LogEntry": "abi.proxy.records",
    "load_scenario": "abi.frontends.scenario",
    "load_scenario_with_sources": "abi.frontends.scenario_sources",
    "ManifestError": "abi.errors",
    "run_scenario": "abi.frontends.runner",
    "check_expectations": "abi.frontends.expectations",
    "HttpStream": "abi.proxy.http_stream",
    "OriginResponse": "abi.proxy.http_stream",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'abi' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
