"""Real filters (``tests/plugins``: C against the raw ABI, AssemblyScript with
``@solo-io/proxy-runtime``) through the CLI with the scenarios in
``tests/abi/scenarios`` and through the Python API."""

from __future__ import annotations

import json
from typing import Any

import pytest

from abi.enums import Action, FailurePolicy, LogLevel
from abi.proxy.http_callouts import HttpCallResponse, UpstreamResponse
from abi.proxy.plugins import PluginConfig
from abi.proxy.http_stream import OriginResponse
from abi.testing import assert_no_failures, callback_names, request_headers
from tests.abi.scenario_runs import ASSEMBLYSCRIPT, C, by_name, messages, run_json


# --- through the CLI ---------------------------------------------------------------------


def test_gateway_chain(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json("gateway.yaml", capsys)
    assert report["failures"] == []
    streams = by_name(report["streams"])

    allowed = streams["allowed"]
    upstream = dict(map(tuple, allowed["upstream_request"]["headers"]))
    assert upstream[":path"] == "/new/orders?id=7"
    assert upstream["x-added"] == "hello" and upstream["x-user"] == "alice"
    assert upstream["x-as-filter"] == "deny_admin" and upstream["x-checked-path"] == "/old/orders?id=7"
    assert "x-remove-me" not in upstream and "content-length" not in upstream
    assert allowed["upstream_request"]["body"] == "my [redacted] is [redacted]!"
    response = allowed["downstream_response"]
    assert response["status"] == 200
    assert response["body"] == "HELLO WORLD\n[rewritten by body_rewrite]\n"
    response_headers = dict(map(tuple, response["headers"]))
    assert response_headers["x-original-path"] == "/old/orders?id=7"
    assert response_headers["x-mp-root-id"] == "mp-root" and response_headers["x-mp-tenant"] == "acme"
    assert response_headers["x-mp-source"] == "10.0.0.1:5000"
    assert response_headers["x-mp-seen-path"] == "/new/orders?id=7"
    assert response_headers["x-powered-by"] == "assemblyscript"
    assert "content-length" not in response_headers
    (call,) = allowed["http_calls"]
    assert call["headers"] == [[":method", "GET"], [":path", "/check"], [":authority", "auth"],
                               ["authorization", "Bearer token"]]
    assert call["timeout_ms"] == 5000 and call["response"]["status"] == 200

    admin = streams["admin"]
    assert admin["upstream_request"] is None
    assert admin["local_response"]["status"] == 403 and admin["local_response"]["plugin"] == "deny_admin"
    assert admin["downstream_response"]["body"] == "admin access denied\n"

    assert streams["denied"]["local_response"]["details"] == "auth_denied"
    assert ["x-auth-status", "401"] in streams["denied"]["downstream_response"]["headers"]
    assert streams["auth-down"]["local_response"]["details"] == "auth_unavailable"
    assert "auth_call: auth service unavailable, status 11: reset" in messages(report, "auth_call")

    assert messages(report, "body_rewrite")[:2] == ["body_rewrite: request body 13 bytes, end_of_stream=0",
                                                    "body_rewrite: request body 20 bytes, end_of_stream=1"]
    assert messages(report, "metrics_properties")[-4:] == [
        "metrics_properties: log response.code=200", "metrics_properties: log response.code=403",
        "metrics_properties: log response.code=403", "metrics_properties: log response.code=503"]
    assert report["metrics"] == {"metrics_properties.last_request_body_bytes": 20,
                                 "metrics_properties.request_body_bytes": {"count": 1, "sum": 20, "values": [20]},
                                 "metrics_properties.requests_total": 1}


def test_assemblyscript_http_call_and_counters(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json("auth_metrics.yaml", capsys)
    streams = by_name(report["streams"])
    assert ["x-user", "bob"] in streams["allowed"]["upstream_request"]["headers"]
    assert streams["allowed"]["downstream_response"]["body"] == "welcome"
    assert streams["allowed"]["http_calls"][0]["headers"][-1] == ["authorization", "Basic Ym9i"]
    assert streams["denied"]["downstream_response"]["status"] == 403
    assert streams["denied"]["downstream_response"]["body"] == "denied by auth service\n"
    assert streams["unavailable"]["local_response"]["details"] == "auth_unavailable"
    assert report["metrics"] == {"auth_metrics.allowed": 1, "auth_metrics.denied": 1, "auth_metrics.failed": 1}
    assert messages(report, "auth_metrics") == [
        "auth_metrics: calling cluster auth", "auth_metrics: allowed bob, 4 body bytes",
        "auth_metrics: denied, auth service answered 403", "auth_metrics: auth service unavailable"]


@pytest.mark.parametrize(("scenario", "status"), [("panic_fail_open.yaml", 200), ("panic_fail_close.yaml", 503)])
def test_failure_policies_with_a_trapping_filter(scenario: str, status: int,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(scenario, capsys)
    (failure,) = report["failures"]
    assert failure == {"plugin": "panic", "callback": "proxy_on_request_headers", "error": "trap: unreachable",
                       "backtrace": ["panic!crash_unreachable @ 0x342", "panic!proxy_on_request_headers @ 0x2aa"],
                       "stream": "crash"}
    for stream in report["streams"]:
        assert stream["downstream_response"]["status"] == status
    assert report["plugins"][1]["failed"] is True
    if status == 503:
        assert by_name(report["streams"])["crash"]["local_response"]["details"] == "wasm_fail_stream"
        assert by_name(report["streams"])["after-crash"]["upstream_request"] is None
    else:
        assert by_name(report["streams"])["after-crash"]["upstream_request"]["complete"] is True


def test_fuel_stops_an_endless_loop(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json("panic_loop.yaml", capsys)
    assert report["failures"][0]["error"] == "fuel: fuel exhausted"
    assert report["failures"][0]["backtrace"][0].startswith("panic!spin_forever @ ")
    assert report["streams"][0]["downstream_response"]["status"] == 503


def test_trailers_added_in_the_last_body_callback_reach_the_origin(tmp_path: Any,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "trace.jsonl"
    report = run_json("hostile_trailers.yaml", capsys, "--trace", str(trace))
    streams = by_name(report["streams"])
    # Envoy keeps the map addDecodedTrailers made usable for the rest of the callback and after it.
    assert streams["body"]["upstream_request"]["trailers"] == [["x-t1", "a"], ["x-t2", "b"]]
    assert streams["body"]["upstream_request"]["body"] == "abcdef"
    assert streams["no-body"]["upstream_request"]["trailers"] == []
    assert streams["client-trailers"]["upstream_request"]["trailers"] == [["x-client", "1"]]
    assert messages(report, "hostile") == [
        "hostile: add x-t1 answered 0, add x-t2 answered 0, get x-t1 answered 0 value a"]
    callbacks = [json.loads(line) for line in trace.read_text().splitlines()]
    seen_by_deny_admin = [(entry["name"], entry["args"]) for entry in callbacks
                          if entry["type"] == "callback" and entry.get("plugin") == "deny_admin"
                          and entry.get("stream") == "body" and entry["name"].startswith("proxy_on_request_")]
    # The filter after hostile sees the body end without end_of_stream, then the two trailers.
    assert seen_by_deny_admin == [
        ("proxy_on_request_headers", {"context_id": 2, "num_headers": 4, "end_of_stream": False}),
        ("proxy_on_request_body", {"context_id": 2, "body_size": 3, "end_of_stream": False}),
        ("proxy_on_request_body", {"context_id": 2, "body_size": 3, "end_of_stream": False}),
        ("proxy_on_request_trailers", {"context_id": 2, "num_trailers": 2}),
    ]


# --- through the Python API ------------------------------------------------------------------


def test_header_rewrite_step_by_step(proxy_host: Any) -> None:
    host = proxy_host(C / "header_rewrite.wasm", configuration="x-team=blue")
    stream = host.open_stream()
    action = stream.send_request_headers(request_headers("/old/a?b=1", headers={"x-remove-me": "1",
                                                                                "x-team": "red"}))
    assert action is Action.CONTINUE
    assert stream.request_headers.get(":path") == "/new/a?b=1"
    assert stream.request_headers.get_all("x-team") == ["red", "blue"]
    assert "x-remove-me" not in stream.request_headers
    assert stream.send_response_headers({":status": "200"}, end_of_stream=True) is Action.CONTINUE
    assert stream.downstream_response.headers.get("x-original-path") == "/old/a?b=1"
    assert host.log_messages(LogLevel.INFO) == ["header_rewrite: request has 6 headers",
                                                "header_rewrite: :path /old/a?b=1 -> /new/a?b=1"]
    assert_no_failures(host)


def test_header_rewrite_rejects_a_bad_configuration(proxy_host: Any) -> None:
    host = proxy_host(C / "header_rewrite.wasm", configuration="no equals sign")
    (plugin,) = host.plugins
    assert plugin.failure.callback == "proxy_on_configure"
    assert host.log_messages(LogLevel.ERROR) == ["header_rewrite: bad configuration, expected NAME=VALUE"]


def test_auth_call_answered_by_hand(proxy_host: Any) -> None:
    host = proxy_host(C / "auth_call.wasm")
    host.add_upstream("auth")
    stream = host.open_stream(origin=OriginResponse.make(body="ok"))
    assert stream.send_request_headers(request_headers(), end_of_stream=True) is Action.PAUSE
    (call,) = host.pending_http_calls
    assert (call.upstream, call.headers.get(":path"), call.timeout_ms) == ("auth", "/check", 5000)
    assert stream.upstream_request is None
    host.respond_http_call(call, HttpCallResponse.make(200, body="carol\n"))
    assert stream.upstream_request.headers.get("x-user") == "carol"
    assert stream.completed and bytes(stream.downstream_response.body) == b"ok"
    assert callback_names(host, "auth_call") == ["proxy_on_configure", "proxy_on_request_headers",
                                                 "proxy_on_http_call_response", "proxy_on_delete"]


def test_auth_call_to_an_unknown_cluster_replies_at_once(proxy_host: Any) -> None:
    host = proxy_host(C / "auth_call.wasm", configuration="nowhere")
    stream = host.open_stream()
    stream.send_request_headers(request_headers(), end_of_stream=True)
    assert (stream.local_response.status, stream.local_response.details) == (503, "auth_dispatch_failed")
    assert host.log_messages(LogLevel.ERROR) == ["auth_call: dispatch failed with status 2"]


def test_body_rewrite_sees_cumulative_sizes(proxy_host: Any) -> None:
    host = proxy_host(C / "body_rewrite.wasm")
    stream = host.open_stream()
    stream.send_request_headers(request_headers(method="POST"))
    assert stream.send_request_body("my secret is ") is Action.PAUSE
    assert stream.request_body == b"my secret is "
    assert stream.send_request_body("secret!", end_of_stream=True) is Action.CONTINUE
    assert bytes(stream.upstream_request.body) == b"my [redacted] is [redacted]!"
    stream.send_response_headers({":status": "200"})
    stream.send_response_body("hello ")
    stream.send_response_body("world", end_of_stream=True)
    assert stream.response_body == b"HELLO WORLD\n[rewritten by body_rewrite]\n"


def test_metrics_and_properties(proxy_host: Any) -> None:
    host = proxy_host(C / "metrics_properties.wasm", root_id="root-7",
                      properties={"custom.tenant": "acme", "source.address": "192.0.2.1:1234"})
    for body in ("abc", ""):
        stream = host.open_stream(origin=OriginResponse.make())
        stream.send_request_headers(request_headers("/p"), end_of_stream=not body)
        if body:
            stream.send_request_body(body, end_of_stream=True)
    assert host.metric("metrics_properties.requests_total") == 2
    assert host.metric("metrics_properties.request_body_bytes") == {"count": 2, "sum": 3, "values": [3, 0]}
    assert host.metric("metrics_properties.last_request_body_bytes") == 0
    assert ("metrics_properties: request #2 x-mp-path=/p x-mp-method=GET x-mp-source=192.0.2.1:1234 "
            "x-mp-plugin-name=metrics_properties x-mp-root-id=root-7 x-mp-tenant=acme") in host.log_messages()
    assert stream.downstream_response.headers.get("x-mp-request-count") == "2"


def test_panic_out_of_bounds_with_fail_open(proxy_host: Any) -> None:
    host = proxy_host(PluginConfig("panic", C / "panic.wasm", failure_policy=FailurePolicy.FAIL_OPEN))
    stream = host.open_stream(origin=OriginResponse.make())
    stream.send_request_headers(request_headers(headers={"x-oob": "1"}), end_of_stream=True)
    assert host.failures[0].error == "trap: out of bounds memory access"
    assert host.failures[0].backtrace[0].startswith("panic!read_out_of_bounds @ ")
    assert stream.downstream_response.status == 200


def test_deny_admin_with_a_configured_prefix(proxy_host: Any) -> None:
    host = proxy_host(ASSEMBLYSCRIPT / "deny_admin.wasm", root_id="deny_admin", configuration="/internal")
    denied = host.open_stream()
    assert denied.send_request_headers(request_headers("/internal/x"), end_of_stream=True) is Action.PAUSE
    assert denied.downstream_response.headers.get("x-denied-by") == "deny_admin"
    assert denied.downstream_response.headers.get("x-powered-by") == "assemblyscript"
    allowed = host.open_stream()
    allowed.send_request_headers(request_headers("/admin", headers={"x-internal": "1"}), end_of_stream=True)
    assert allowed.request_headers.get("x-checked-path") == "/admin"
    assert "x-internal" not in allowed.request_headers
    assert "deny_admin: denying paths under /internal" in host.log_messages(LogLevel.INFO)


def test_an_assemblyscript_root_id_nobody_registered(proxy_host: Any) -> None:
    host = proxy_host(ASSEMBLYSCRIPT / "deny_admin.wasm", root_id="other")
    (plugin,) = host.plugins
    assert plugin.failure.callback == "proxy_on_context_create"
    assert plugin.failure.error == "proc_exit: process exited with status 255"
    assert host.logs(LogLevel.CRITICAL)[0].message.startswith("Missing root context factory for root id: other")


def test_auth_metrics_answered_by_hand(proxy_host: Any) -> None:
    host = proxy_host(ASSEMBLYSCRIPT / "auth_metrics.wasm", root_id="auth_metrics",
                      upstreams={"auth": [UpstreamResponse(200, (("x-user", "dave"),))]})
    stream = host.open_stream(origin=OriginResponse.make())
    stream.send_request_headers(request_headers(), end_of_stream=True)
    assert stream.upstream_request.headers.get("x-user") == "dave"
    assert host.metric("auth_metrics.allowed") == 1
    assert_no_failures(host)


def test_two_added_trailers_through_the_api(proxy_host: Any) -> None:
    host = proxy_host(C / "hostile.wasm")
    stream = host.open_stream(origin=OriginResponse.make())
    stream.send_request_headers(request_headers(method="POST", headers={"x-hostile": "trailers_two"}))
    assert stream.send_request_body("first", end_of_stream=False) is Action.CONTINUE
    assert stream.upstream_request.trailers is None
    assert stream.send_request_body("last", end_of_stream=True) is Action.CONTINUE
    assert stream.upstream_request.trailers.items() == [("x-t1", "a"), ("x-t2", "b")]
    assert bytes(stream.upstream_request.body) == b"firstlast" and stream.upstream_request.end_of_stream
    assert host.log_messages(LogLevel.INFO) == [
        "hostile: add x-t1 answered 0, add x-t2 answered 0, get x-t1 answered 0 value a"]
    assert_no_failures(host)
