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
    "HeaderMap": "abi.headers",
    "HostConfig": "abi.host",
    "ProxyHost": "abi.host",
    "HttpCall": "abi.http_calls",
    "HttpCallResponse": "abi.http_calls",
    "UpstreamResponse": "abi.http_calls",
    "Plugin": "abi.plugin",
    "PluginConfig": "abi.plugin",
    "Failure": "abi.records",
    "LocalResponse": "abi.records",
    "LogEntry": "abi.records",
    "load_scenario": "abi.scenario",
    "run_scenario": "abi.runner",
    "HttpStream": "abi.stream",
    "OriginResponse": "abi.stream",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'abi' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
