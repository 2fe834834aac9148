"""Scenario files: what they may say, and the exact message for each
mistake (naming the key path)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from abi.enums import FailurePolicy, LogLevel
from abi.errors import ScenarioError
from abi.proxy.http_callouts import UpstreamResponse
from abi.frontends.scenario import load_scenario

PLUGIN = '(module (func (export "proxy_abi_version_0_2_1")))'


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "auth.wat").write_text(PLUGIN)
    return tmp_path


def write(folder: Path, text: str, name: str = "scenario.yaml") -> str:
    path = folder / name
    path.write_text(text)
    return str(path)


FULL = """
log_level: debug
random_seed: 7
clock_start_ns: 5
properties: {"source.address": "10.0.0.1:5000", node.meta: {team: a}}
plugins:
  - wasm: auth.wat
    root_id: r
    configuration: {a: [1, 2]}
    vm_configuration: vm
    environment: {K: V}
    failure: fail_open
    fuel: 1000
upstreams:
  auth:
    - {status: 201, headers: {x-user: alice}, body: ok}
    - {reset: true}
  slow: {timeout: true}
streams:
  - request:
      headers: [[":method", GET], [":path", "/"], [x-a, 1], [x-a, 2]]
      body: ["part one", "part two"]
      trailers: {t: 1}
    response:
      headers: {":status": 404}
      body: hello
  - name: second
    request: {headers: {":path": /x}}
"""


def test_a_full_scenario(folder: Path) -> None:
    scenario = load_scenario(write(folder, FULL))
    (plugin,) = scenario.plugins
    assert plugin.name == "auth" and plugin.wasm == str((folder / "auth.wat").resolve())
    assert plugin.wasm_as_written == "auth.wat"
    assert (plugin.root_id, plugin.configuration, plugin.vm_configuration) == ("r", {"a": [1, 2]}, "vm")
    assert (plugin.environment, plugin.failure, plugin.fuel) == ((("K", "V"),), FailurePolicy.FAIL_OPEN, 1000)
    assert (scenario.log_level, scenario.random_seed, scenario.clock_start_ns) == (LogLevel.DEBUG, 7, 5)
    assert dict(scenario.upstreams) == {
        "auth": (UpstreamResponse(201, (("x-user", "alice"),), b"ok"), UpstreamResponse(reset=True)),
        "slow": (UpstreamResponse(timeout=True),)}
    first, second = scenario.streams
    assert first.name == "stream-1" and second.name == "second"
    assert first.request.headers == ((":method", "GET"), (":path", "/"), ("x-a", "1"), ("x-a", "2"))
    assert (first.request.body, first.request.trailers) == ((b"part one", b"part two"), (("t", "1"),))
    assert first.response.headers == ((":status", "404"),) and first.response.body == (b"hello",)
    assert second.response.headers == ((":status", "200"),) and second.response.body == ()


def test_json_scenarios(folder: Path) -> None:
    document = {"plugins": [{"wasm": "auth.wat", "name": "a"}], "streams": [{"request": {"headers": {}}}]}
    scenario = load_scenario(write(folder, json.dumps(document), "scenario.json"))
    assert scenario.plugins[0].name == "a"


@pytest.mark.parametrize(("text", "message"), [
    ("", "expected a mapping, got nothing"),
    ("plugins: [", "invalid YAML at line 1, column 11: expected the node content, but found '<stream end>'"),
    ("streams: []", "plugins: missing: a scenario needs at least one plugin (plugins, network_plugins or "
                    "services)"),
    ("plugins: []", "plugins: missing: a scenario needs at least one plugin (plugins, network_plugins or "
                    "services)"),
    ("plugins: [{wasm: auth.wat}]\nextra: 1",
     "extra: unknown key (expected one of: plugins, network_plugins, services, streams, connections, upstreams, "
     "grpc_upstreams, foreign_functions, shared_data, properties, log_level, random_seed, clock_start_ns, "
     "stall_after_ms, limits, expect)"),
    ("plugins: [{name: a}]", "plugins[0].wasm: missing: the plugin's .wasm (or .wat) file"),
    ("plugins: [{wasm: nope.wasm}]", "plugins[0].wasm: no such file: {folder}/nope.wasm"),
    ("plugins: [{wasm: auth.wat}, {wasm: auth.wat}]", "plugins[1].name: duplicate plugin name 'auth' (names are unique across plugins, network_plugins and services)"),
    ("plugins: [{wasm: auth.wat, failure: maybe}]", "plugins[0].failure: expected fail_close, fail_open or fail_reload"),
    ("plugins: [{wasm: auth.wat, fuel: 0}]", "plugins[0].fuel: expected an integer from 1 to 9223372036854775807, got a number"),
    ("plugins: [{wasm: auth.wat, configuration: 3}]",
     "plugins[0].configuration: expected text, a mapping or a list, got a number"),
    ("plugins: [{wasm: auth.wat, environment: {A: [1]}}]", "plugins[0].environment.A: expected text, got a list"),
    ("plugins: [{wasm: auth.wat, rootid: x}]",
     "plugins[0].rootid: unknown key (expected one of: name, wasm, root_id, vm_id, configuration, "
     "vm_configuration, environment, failure, fuel)"),
    ("plugins: [{wasm: auth.wat}]\nlog_level: loud",
     "log_level: expected one of trace, debug, info, warn, error, critical"),
    ("plugins: [{wasm: auth.wat}]\nstreams: {a: 1}", "streams: expected a list of streams and steps, got a mapping"),
    ("plugins: [{wasm: auth.wat}]\nstreams: [{}]", "streams[0].request: missing: a stream needs a request"),
    ("plugins: [{wasm: auth.wat}]\nstreams: [{request: {}}]",
     "streams[0].request.headers: missing: a request needs headers"),
    ("plugins: [{wasm: auth.wat}]\nstreams: [{request: {headers: {}}}, {request: {headers: 5}}]",
     "streams[1].request.headers: expected a mapping or a list of [name, value] pairs"),
    ("plugins: [{wasm: auth.wat}]\nstreams: [{request: {headers: [[a]]}}]",
     "streams[0].request.headers[0]: expected a [name, value] pair"),
    ("plugins: [{wasm: auth.wat}]\nstreams: [{request: {headers: {a: [1]}}}]",
     "streams[0].request.headers.a: expected text, got a list"),
    ("plugins: [{wasm: auth.wat}]\nstreams: [{request: {headers: {}, body: [a, 1]}}]",
     "streams[0].request.body[1]: expected text or {{base64: ...}}, got a number"),
    ("plugins: [{wasm: auth.wat}]\nstreams: [{request: {headers: {}}, response: {status: 200}}]",
     "streams[0].response.status: unknown key (expected one of: headers, body, trailers)"),
    ("plugins: [{wasm: auth.wat}]\nstreams: [{name: a, request: {headers: {}}}, {name: a, request: {headers: {}}}]",
     "streams[1].name: duplicate stream or connection name 'a'"),
    ("plugins: [{wasm: auth.wat}]\nupstreams: {auth: []}", "upstreams.auth: expected at least one answer"),
    ("plugins: [{wasm: auth.wat}]\nupstreams: {auth: {status: 99}}",
     "upstreams.auth.status: expected an integer from 100 to 999, got a number"),
    ("plugins: [{wasm: auth.wat}]\nupstreams: {auth: [{reset: yes please}]}",
     "upstreams.auth[0].reset: expected true or false, got text"),
    ("plugins: [{wasm: auth.wat}]\nproperties: {a..b: 1}",
     "properties.a..b: a property path needs non-empty segments between dots"),
    ("plugins: [{wasm: auth.wat}]\nproperties: {a: null}",
     "properties.a: a property value must be text, a number, true/false, a mapping or a list, got nothing"),
])
def test_mistakes_are_named_by_key_path(folder: Path, text: str, message: str) -> None:
    path = write(folder, text)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    assert str(raised.value) == f"{path}: {message.format(folder=folder.resolve())}"


def test_unreadable_and_invalid_json_files(folder: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read the scenario: No such file or directory"):
        load_scenario(folder / "missing.yaml")
    path = write(folder, '{"plugins": [}', "bad.json")
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    assert str(raised.value) == f"{path}: invalid JSON at line 1, column 14: Expecting value"
