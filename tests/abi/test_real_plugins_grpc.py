"""gRPC callouts with the real grpc_client filter: a unary success, an error
status, a timeout, a cancel, a bidirectional stream and a stream the filter
closes — through the scenario file and the Python API (canned answers and
answers given by hand)."""

from __future__ import annotations

from typing import Any

import pytest

from abi.testing import (
    Action,
    GrpcAnswer,
    LogLevel,
    OriginResponse,
    ProxyHost,
    assert_no_failures,
    request_headers,
)
from tests.abi.scenario_runs import C, by_name, header_values, messages, run_json

GRPC_CLIENT = C / "grpc_client.wasm"
CALLER = [["x-caller", "grpc_client"]]


def test_grpc_client_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json("grpc_client.yaml", capsys)
    streams = by_name(report["streams"])

    unary = streams["unary"]
    assert header_values(unary["upstream_request"], "x-grpc-reply") == ["hi"]
    (call,) = unary["grpc_calls"]
    # Envoy answers a unary success with the message alone (no metadata, no close).
    assert call == {"plugin": "grpc_client", "token": 1, "kind": "unary", "context_id": 2, "cluster": "grpc",
                    "method": "echo.Echo/Say", "metadata": CALLER, "sent": ["/hello"],
                    "received": [{"event": "message", "message": "hi"}], "state": "closed",
                    "status": {"code": 0, "message": ""}}

    for name, body in (("error", "grpc error 7: permission denied\n"),
                       ("timeout", "grpc error 4: deadline exceeded\n")):
        local = streams[name]["local_response"]
        assert (local["status"], local["details"], local["body"]) == (503, "grpc_error", body)
        assert streams[name]["upstream_request"] is None
    assert streams["error"]["grpc_calls"][0]["received"] == [
        {"event": "close", "status": 7, "message": "permission denied"}]
    assert streams["timeout"]["grpc_calls"][0]["status"] == {"code": 4, "message": "deadline exceeded"}

    cancel = streams["cancel"]
    assert header_values(cancel["upstream_request"], "x-grpc-cancelled") == ["0"]
    assert cancel["grpc_calls"][0]["state"] == "cancelled" and cancel["grpc_calls"][0]["received"] == []

    stream = streams["stream"]
    assert header_values(stream["upstream_request"], "x-grpc-replies") == ["uno,dos,tres"]
    (chat,) = stream["grpc_calls"]
    assert (chat["kind"], chat["token"], chat["sent"]) == ("stream", 8, ["one", "two", "three"])
    assert chat["received"] == [
        {"event": "initial_metadata", "metadata": [["x-chat", "1"]]},
        {"event": "message", "message": "uno"}, {"event": "message", "message": "dos"},
        {"event": "message", "message": "tres"},
        {"event": "trailing_metadata", "metadata": [["x-end", "yes"], ["x-count", "3"]]},
        {"event": "close", "status": 0, "message": ""},
    ]
    close = streams["close"]
    assert header_values(close["upstream_request"], "x-grpc-replies") == ["uno"]  # one reply per message sent
    assert close["grpc_calls"][0]["sent"] == ["one"]
    assert [event["event"] for event in close["grpc_calls"][0]["received"]] == [
        "initial_metadata", "message", "trailing_metadata", "close"]

    assert all(stream["stalled"] is None for stream in report["streams"])
    assert messages(report, "grpc_client") == [
        "grpc_client: called echo.Echo/Say with /hello", "grpc_client: received hi",
        "grpc_client: called echo.Echo/Fail with /err", "grpc_client: closed with status 7",
        "grpc_client: called echo.Echo/Say with /late", "grpc_client: closed with status 4",
        "grpc_client: called echo.Echo/Say with /gone", "grpc_client: cancelled the call, status 0",
        "grpc_client: opened echo.Echo/Chat", "grpc_client: sent one", "grpc_client: sent two",
        "grpc_client: sent three", "grpc_client: initial metadata with 1 entries", "grpc_client: received uno",
        "grpc_client: received dos", "grpc_client: received tres", "grpc_client: trailing metadata with 2 entries",
        "grpc_client: closed with status 0",
        "grpc_client: opened echo.Echo/Chat", "grpc_client: sent one", "grpc_client: closed its side of the stream",
        "grpc_client: initial metadata with 1 entries", "grpc_client: received uno",
        "grpc_client: trailing metadata with 2 entries", "grpc_client: closed with status 0",
    ]
    assert report["grpc_calls"] == [] and report["host_call_errors"] == [] and report["failures"] == []


def open_request(host: ProxyHost, mode: str, path: str = "/p") -> Any:
    stream = host.open_stream(origin=OriginResponse.make())
    action = stream.send_request_headers(request_headers(path, headers={"x-grpc": mode}), end_of_stream=True)
    return stream, action


def test_unary_and_error_answered_by_hand(proxy_host: Any) -> None:
    host = proxy_host(GRPC_CLIENT, log_level=LogLevel.INFO)
    host.add_grpc_upstream("grpc")  # no canned answers: calls wait
    ok, action = open_request(host, "unary", "/q")
    assert action is Action.PAUSE
    failing, _ = open_request(host, "error")
    first, second = host.pending_grpc_calls
    assert (first.path, first.sent, first.timeout_ms) == ("echo.Echo/Say", [b"/q"], 1000)
    assert first.metadata.items() == [("x-caller", "grpc_client")]
    assert second.path == "echo.Echo/Fail"

    host.respond_grpc_call(second, status=5, status_message="no such thing")
    assert failing.local_response.body == b"grpc error 5: no such thing\n"
    assert ok.upstream_request is None
    host.respond_grpc_call(first, "answer")
    assert ok.upstream_request.headers.get("x-grpc-reply") == "answer" and ok.completed
    assert host.pending_grpc_calls == []
    assert_no_failures(host)


def test_a_stream_played_by_hand(proxy_host: Any) -> None:
    host = proxy_host(GRPC_CLIENT, log_level=LogLevel.INFO)
    host.add_grpc_upstream("grpc")
    stream, _ = open_request(host, "stream")
    (chat,) = host.pending_grpc_calls
    assert chat.sent == [b"one", b"two", b"three"] and chat.local_closed
    host.grpc_stream_event(chat, "initial_metadata", {"x-a": "1", "x-b": "2"})
    host.grpc_stream_event(chat, "message", "first")
    host.grpc_stream_event(chat, "message", "second")
    assert stream.upstream_request is None
    host.grpc_stream_event(chat, "trailing_metadata", {"x-t": "1"})
    host.grpc_stream_event(chat, "close")
    assert stream.upstream_request.headers.get("x-grpc-replies") == "first,second"
    assert host.log_messages(LogLevel.INFO)[-5:] == [
        "grpc_client: initial metadata with 2 entries", "grpc_client: received first",
        "grpc_client: received second", "grpc_client: trailing metadata with 1 entries",
        "grpc_client: closed with status 0"]
    assert_no_failures(host)


def test_a_stream_closed_with_an_error_by_the_server(proxy_host: Any) -> None:
    host = proxy_host(GRPC_CLIENT)
    host.add_grpc_upstream("grpc")
    stream, _ = open_request(host, "close")
    (chat,) = host.pending_grpc_calls
    assert chat.sent == [b"one"]
    host.grpc_stream_event(chat, "close", status=14, status_message="gone away")
    assert stream.local_response.body == b"grpc error 14: gone away\n"


def test_timeout_and_cancel_with_canned_answers(proxy_host: Any) -> None:
    host = proxy_host(GRPC_CLIENT, log_level=LogLevel.INFO)
    host.add_grpc_upstream("grpc", {"echo.Echo/Say": [GrpcAnswer.make(timeout=True)]})
    late, _ = open_request(host, "unary")
    host.advance(999)
    assert late.local_response is None
    host.advance(2)
    assert late.local_response.body == b"grpc error 4: deadline exceeded\n"

    cancelled, action = open_request(host, "cancel")
    assert action is Action.CONTINUE
    assert cancelled.upstream_request.headers.get("x-grpc-cancelled") == "0"
    call = host.grpc_calls[-1]
    assert call.state.value == "cancelled" and call.received == []
    host.advance(2000)  # a cancelled call is never answered, not even by its timeout
    assert call.received == []
    assert_no_failures(host)


def test_what_no_server_can_answer(proxy_host: Any) -> None:
    host = proxy_host(GRPC_CLIENT, log_level=LogLevel.INFO)
    host.add_grpc_upstream("grpc", {"echo.Echo/Say": [GrpcAnswer.make(["hi"], delay_ms=5)]})
    unknown_method, _ = open_request(host, "error")
    assert unknown_method.local_response.body == b"grpc error 12: unknown method Fail for service echo.Echo\n"
    delayed, _ = open_request(host, "unary")
    assert delayed.upstream_request is None
    host.advance(5)
    assert delayed.upstream_request.headers.get("x-grpc-reply") == "hi"

    elsewhere = proxy_host(GRPC_CLIENT, configuration="missing", name="elsewhere", log_level=LogLevel.INFO)
    refused, _ = open_request(elsewhere, "unary")
    # A plain cluster name Envoy does not know: PARSE_FAILURE at once, nothing dispatched.
    assert (refused.local_response.status, refused.local_response.details) == (503, "grpc_dispatch_failed")
    assert elsewhere.log_messages(LogLevel.ERROR) == ["grpc_client: dispatch failed with status 4"]
    assert elsewhere.grpc_calls == []


def test_an_unknown_mode_is_only_a_warning(proxy_host: Any) -> None:
    host = proxy_host(GRPC_CLIENT)
    stream, action = open_request(host, "telepathy")
    assert action is Action.CONTINUE and stream.completed
    assert host.log_messages(LogLevel.WARN) == ["grpc_client: unknown x-grpc mode telepathy"]
