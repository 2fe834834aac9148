"""Hostile plugins and hostile input: the host's limits hold, a healthy
plugin keeps serving, nothing is blamed on the wrong party, every bad file is
one line (issue 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abi.enums import FailurePolicy
from abi.errors import HostError, ScenarioError
from abi.frontends.report import build_report
from abi.frontends.scenario import load_scenario
from abi.proxy.host import ProxyHost
from abi.proxy.http_callouts import UpstreamResponse
from abi.proxy.http_stream import OriginResponse
from abi.proxy.limits import HostLimits
from abi.proxy.plugins import PluginConfig
from abi.proxy.services import HostConfig
from interp.cli.main import main

PLUGINS = Path(__file__).parents[1] / "plugins" / "c"
SCENARIOS = Path(__file__).parent / "scenarios"


def chain(limits: HostLimits, fuel: int = 20_000_000) -> ProxyHost:
    host = ProxyHost(HostConfig(limits=limits))
    host.add_upstream("flood", [UpstreamResponse(200, delay_ms=10_000)])
    host.load_plugin(PluginConfig("hostile", str(PLUGINS / "hostile.wasm"), failure_policy=FailurePolicy.FAIL_OPEN,
                                  fuel_per_callback=fuel))
    host.load_plugin(PluginConfig("header_rewrite", str(PLUGINS / "header_rewrite.wasm"), configuration="x-ok=1"))
    return host


def run(host: ProxyHost, mode: str, body: str = "") -> object:
    stream = host.open_stream(mode, origin=OriginResponse.make())
    headers = {":method": "POST", ":path": "/", ":authority": "x", "x-hostile": mode}
    stream.send_request_headers(headers, end_of_stream=not body)
    if body:
        stream.send_request_body(body, end_of_stream=True)
    stream.finish()
    return stream


@pytest.mark.parametrize(("mode", "body", "limits", "error"), [
    ("body_grow", "data", HostLimits(max_body_bytes=64 * 1024),
     "resource limit: the REQUEST_BODY buffer would hold 1048580 bytes, more than 65536 (limits.max_body_bytes)"),
    ("header_grow", "", HostLimits(max_header_count=10),
     "resource limit: the plugin would have added 11 headers of 11354 bytes to the REQUEST_HEADERS map, more "
     "than 10 headers (limits.max_header_count)"),
    ("header_grow", "", HostLimits(),
     "resource limit: the plugin would have added 60 headers of 61971 bytes to the REQUEST_HEADERS map, more "
     "than 61440 bytes (limits.max_header_bytes)"),
])
def test_a_plugin_growing_what_the_host_holds_fails_with_the_limit_named(mode: str, body: str, limits: HostLimits,
                                                                        error: str) -> None:
    host = chain(limits)
    stream = run(host, mode, body)
    (failure,) = host.failures
    assert failure.plugin == "hostile" and failure.error == error
    assert stream.upstream_request.headers.get("x-ok") == "1"  # the healthy plugin still served it
    assert stream.downstream_response.status == 200
    assert run(host, "none").upstream_request.headers.get("x-ok") == "1"


def test_a_flood_of_callouts_is_refused_past_the_limit() -> None:
    host = chain(HostLimits(max_pending_callouts=5))
    stream = run(host, "callout_flood")
    assert host.failures == []
    assert host.log_messages(plugin="hostile") == ["hostile: proxy_http_call answered 10 after 5 calls"]
    assert len(host.pending_http_calls) == 0 and len(host.http_calls) == 5
    assert stream.downstream_response.status == 200
    assert build_report(host)["host_call_errors"] == [
        {"plugin": "hostile", "call": "proxy_http_call", "status": "INTERNAL_FAILURE", "count": 1}]


def test_a_plugin_logging_in_a_loop_is_stopped_by_its_fuel_and_the_log_stays_bounded() -> None:
    host = chain(HostLimits(max_log_lines=10, max_log_bytes=100_000), fuel=200_000)
    stream = run(host, "log_flood")
    (failure,) = host.failures
    assert failure.error == "fuel: fuel exhausted"
    assert len(host.logs()) == 10
    report = build_report(host)
    assert report["logs_dropped"]["hostile"] > 1000
    assert stream.upstream_request.headers.get("x-ok") == "1"


def test_host_work_counts_against_fuel() -> None:
    """The same flood with host work free gets much further on the same fuel."""
    charged = chain(HostLimits(max_log_lines=1, max_log_bytes=100_000), fuel=200_000)
    free = chain(HostLimits(max_log_lines=1, max_log_bytes=100_000, host_work_per_byte=0), fuel=200_000)
    run(charged, "log_flood")
    run(free, "log_flood")
    charged_lines = build_report(charged)["logs_dropped"]["hostile"]
    free_lines = build_report(free)["logs_dropped"]["hostile"]
    assert free_lines > 2 * charged_lines


def test_two_trailers_added_in_the_last_body_callback_both_arrive() -> None:
    host = chain(HostLimits())
    stream = run(host, "trailers_two", "data")
    assert host.log_messages(plugin="hostile") == [
        "hostile: add x-t1 answered 0, add x-t2 answered 0, get x-t1 answered 0 value a"]
    assert stream.upstream_request.trailers.items() == [("x-t1", "a"), ("x-t2", "b")]


def test_a_request_with_too_many_headers_is_refused_before_any_plugin() -> None:
    host = chain(HostLimits(max_header_count=3))
    stream = host.open_stream("big", origin=OriginResponse.make())
    stream.send_request_headers({":method": "GET", ":path": "/", ":authority": "x", "a": "1"}, end_of_stream=True)
    assert stream.completed and stream.downstream_response.status == 431
    assert stream.local_response.details == "request_headers_too_large" and stream.local_response.plugin is None
    assert host.trace.callbacks() == [entry for entry in host.trace.callbacks()
                                      if entry[1] not in ("proxy_on_request_headers",)]


def test_buffering_a_body_past_the_limit_is_envoys_413() -> None:
    host = ProxyHost(HostConfig(limits=HostLimits(max_body_bytes=8)))
    host.load_plugin(PluginConfig("body_rewrite", str(PLUGINS / "body_rewrite.wasm")))
    stream = host.open_stream("s", origin=OriginResponse.make())
    stream.send_request_headers({":method": "POST", ":path": "/", ":authority": "x"})
    stream.send_request_body("12345")  # paused: buffered
    stream.send_request_body("67890", end_of_stream=True)
    assert stream.downstream_response.status == 413
    assert stream.local_response.details == "request_payload_too_large"
    assert stream.local_response.body == b"Payload Too Large"
    assert bytes(stream.upstream_request.body) == b"" and not stream.upstream_request.end_of_stream


def test_an_exception_in_a_host_function_is_the_hosts_error_not_the_plugins() -> None:
    host = ProxyHost()
    host.load_plugin(PluginConfig("foreign_calls", str(PLUGINS / "foreign_calls.wasm"), configuration="broken"))

    def broken(data: bytes) -> bytes:
        raise KeyError("bug")

    host.add_foreign_function("broken", broken)
    stream = host.open_stream("s", origin=OriginResponse.make())
    stream.send_request_headers({":method": "POST", ":path": "/", ":authority": "x"})
    with pytest.raises(HostError, match="proxy_call_foreign_function failed in the host: KeyError: 'bug'"):
        stream.send_request_body("data", end_of_stream=True)
    assert host.failures == [] and not host.plugin("foreign_calls").failed


@pytest.mark.parametrize("scenario", ["hostile.yaml", "hostile_logs.yaml"])
def test_hostile_scenarios_give_a_complete_report_and_the_same_one_each_time(
        scenario: str, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = []
    for _ in range(2):
        assert main(["proxy", str(SCENARIOS / scenario), "--json"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    report = json.loads(outputs[0])
    assert [failure["plugin"] for failure in report["failures"]] == ["hostile"]
    assert all(stream["downstream_response"]["status"] == 200 for stream in report["streams"])
    assert all(["x-added", "ok" if scenario == "hostile.yaml" else "default"] in stream["upstream_request"]["headers"]
               for stream in report["streams"])


PLUGIN_LINE = "plugins: [{wasm: p.wat}]\n"


def billion_laughs() -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return PLUGIN_LINE + "\n".join(lines) + "\nproperties: {x: *a9}\n"


@pytest.mark.parametrize(("name", "text", "message"), [
    ("circular.yaml", PLUGIN_LINE + "properties: &a {x: *a}\n",
     "invalid YAML at line 2, column 20: aliases (*name) are not accepted in scenario files: write the value out"),
    ("bomb.yaml", billion_laughs(),
     "invalid YAML at line 3, column 10: aliases (*name) are not accepted in scenario files: write the value out"),
    ("deep.yaml", PLUGIN_LINE + "properties: {x: " + "[" * 100_000 + "]" * 100_000 + "}\n",
     "invalid YAML at line 2, column 79: nested more than 64 levels deep"),
    ("deep.json", '{"plugins": [{"wasm": "p.wat"}], "properties": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}}",
     "nested more than 64 levels deep"),
    ("surrogate.yaml", PLUGIN_LINE + 'streams: [{request: {headers: {":path": "/\\ud800"}}}]\n',
     "streams[0].request.headers.:path: the text has the lone surrogate U+D800, which no bytes encode (write the "
     "bytes with {base64: ...} instead)"),
    ("body.yaml", PLUGIN_LINE + 'streams: [{request: {headers: {}, body: "\\udcff"}}]\n',
     "streams[0].request.body: the text has the lone surrogate U+DCFF, which no bytes encode (write the bytes with "
     "{base64: ...} instead)"),
    ("config.yaml", 'plugins: [{wasm: p.wat, configuration: "\\ud800"}]\n',
     "plugins[0].configuration: the text has the lone surrogate U+D800, which no bytes encode (write the bytes with "
     "{base64: ...} instead)"),
    ("clock.yaml", PLUGIN_LINE + "clock_start_ns: 18446744073709551616\n",
     "clock_start_ns: expected an integer from 0 to 18446744073709551615, got a number"),
    ("status.yaml", PLUGIN_LINE + "upstreams: {a: {status: 100000000000000000000000}}\n",
     "upstreams.a.status: expected an integer from 100 to 999, got a number"),
    ("wait.yaml", PLUGIN_LINE + "streams: [{wait_ms: 1.0e+30}]\n",
     "streams[0].wait_ms: expected an integer from 0 to 1000000000000, got a number"),
    ("property.yaml", PLUGIN_LINE + "properties: {x: 100000000000000000000000}\n",
     "properties.x: an integer property value must fit in 64 bits"),
    ("special.yaml", "plugins: [{wasm: /dev/zero}]\n", "plugins[0].wasm: not a regular file: /dev/zero"),
])
def test_hostile_scenario_files_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    name: str, text: str, message: str) -> None:
    (tmp_path / "p.wat").write_text((SCENARIOS / "pause_forever.wat").read_text())
    path = tmp_path / name
    path.write_text(text)
    assert main(["proxy", str(path)]) == 1
    assert capsys.readouterr().err == f"error: {path}: {message}\n"


def test_special_and_huge_scenario_files_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxy", "/dev/zero"]) == 1
    assert capsys.readouterr().err == "error: /dev/zero: not a regular file\n"
    huge = tmp_path / "huge.yaml"
    huge.write_bytes(b"#" * (16 * 1024 * 1024 + 1))
    assert main(["proxy", str(huge)]) == 1
    assert capsys.readouterr().err == f"error: {huge}: larger than 16777216 bytes\n"


VALID = (SCENARIOS / "gateway.yaml").read_text()

yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    yaml_values.map(lambda value: json.dumps({"plugins": [{"wasm": "x.wat"}], "streams": value})),
    yaml_values.map(lambda value: json.dumps(value)),
    st.tuples(st.integers(0, len(VALID)), st.integers(0, 40), st.text(max_size=12)).map(
        lambda edit: VALID[:edit[0]] + edit[2] + VALID[edit[0] + edit[1]:]),
))
def test_loading_any_scenario_text_gives_a_scenario_or_one_scenario_error(text: str) -> None:
    folder = SCENARIOS
    path = folder / ".fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_scenario(path)
    except ScenarioError as error:
        assert "\n" not in str(error)
    finally:
        path.unlink()
