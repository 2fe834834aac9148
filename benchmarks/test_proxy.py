"""The proxy-wasm request path: one HTTP stream through a chain of five real
filters (tests/plugins: AssemblyScript and C), with an HTTP call, header and
body rewriting, metrics and properties — the work a plugin test or a
scenario run repeats for every request."""

from __future__ import annotations

from itertools import count
from pathlib import Path

import pytest

from abi.testing import (
    HostConfig,
    LogLevel,
    OriginResponse,
    PluginConfig,
    ProxyHost,
    UpstreamResponse,
    request_headers,
)

from .conftest import ENGINES

PLUGINS = Path(__file__).resolve().parents[1] / "tests" / "plugins"
CHAIN = [
    PluginConfig("deny_admin", PLUGINS / "assemblyscript" / "deny_admin.wasm", root_id="deny_admin"),
    PluginConfig("header_rewrite", PLUGINS / "c" / "header_rewrite.wasm", configuration="x-added=hello"),
    PluginConfig("auth_call", PLUGINS / "c" / "auth_call.wasm"),
    PluginConfig("metrics_properties", PLUGINS / "c" / "metrics_properties.wasm", root_id="mp-root"),
    PluginConfig("body_rewrite", PLUGINS / "c" / "body_rewrite.wasm"),
]


@pytest.mark.parametrize("engine", ENGINES)
def test_request_through_five_filters(benchmark, engine: str) -> None:
    host = ProxyHost(HostConfig(log_level=LogLevel.INFO, properties={"source.address": "10.0.0.1:5000"},
                                engine=engine))
    host.add_upstream("auth", [UpstreamResponse(200, body=b"alice\n")])
    for plugin in CHAIN:
        host.load_plugin(plugin)
    names = count()

    def one_request() -> object:
        stream = host.open_stream(f"request-{next(names)}", OriginResponse.make(body="hello world"))
        stream.send_request_headers(request_headers("/old/orders", "POST", headers={"authorization": "Bearer t"}))
        stream.send_request_body(b"my secret is secret!", end_of_stream=True)
        stream.finish()
        return stream.downstream_response

    response = benchmark.pedantic(one_request, rounds=20, iterations=1, warmup_rounds=2)
    assert response is not None and response.status == 200
    assert not host.failures
    if benchmark.stats is not None:
        benchmark.extra_info["requests_per_second"] = round(1 / benchmark.stats.stats.mean, 1)
