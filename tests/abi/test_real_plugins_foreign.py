"""Foreign functions with the real foreign_calls filter: the built-in zlib
``compress``/``uncompress`` round trip, functions a scenario adds, a Python
callable, an unknown name, and the host calling the plugin's
``proxy_on_foreign_function`` — through the scenario file and the Python
API."""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from abi.testing import LogLevel, OriginResponse, Status, assert_no_failures, request_headers
from tests.abi.scenario_runs import C, by_name, errors_by_call, header_values, messages, run_json

FOREIGN_CALLS = C / "foreign_calls.wasm"
COMPRESSED = len(zlib.compress(b"hello world"))  # the built-in compress is zlib at its default level (19 bytes)
ROUND_TRIP = [f"foreign_calls: compress 11 -> {COMPRESSED} bytes",
              f"foreign_calls: uncompress {COMPRESSED} -> 11 bytes", "foreign_calls: round trip matches"]


def test_foreign_calls_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json("foreign_calls.yaml", capsys)
    streams = by_name(report["streams"])
    body = streams["body"]["upstream_request"]
    # reversed, upper-cased; the failing and the unknown function leave it as it is.
    assert body["body"] == "DLROW OLLEH"
    assert header_values(body, "content-length") == []
    assert streams["no-body"]["upstream_request"]["body"] == ""
    assert messages(report, "reversing") == [*ROUND_TRIP, "foreign_calls: reverse 11 -> 11 bytes"]
    assert messages(report, "shouting") == [*ROUND_TRIP, "foreign_calls: shout 11 -> 11 bytes"]
    assert messages(report, "failing") == [*ROUND_TRIP, "foreign_calls: broken answered 10"]  # INTERNAL_FAILURE
    assert messages(report, "unknown") == [*ROUND_TRIP, "foreign_calls: no foreign function nope"]
    assert errors_by_call(report) == {("failing", "proxy_call_foreign_function", "INTERNAL_FAILURE"): 1,
                                      ("unknown", "proxy_call_foreign_function", "NOT_FOUND"): 1}
    assert report["failures"] == []


def send_body(host: Any, body: str) -> Any:
    stream = host.open_stream(origin=OriginResponse.make())
    stream.send_request_headers(request_headers(method="POST"))
    stream.send_request_body(body, end_of_stream=True)
    return stream


def test_a_python_callable_rewrites_the_body(proxy_host: Any) -> None:
    seen: list[bytes] = []

    def wrap(arguments: bytes) -> bytes:
        seen.append(arguments)
        return b"<" + arguments + b">"

    host = proxy_host(FOREIGN_CALLS, configuration="wrap", log_level=LogLevel.INFO)
    host.add_foreign_function("wrap", wrap)
    stream = send_body(host, "hello world")
    assert seen == [b"hello world"]
    assert bytes(stream.upstream_request.body) == b"<hello world>"
    assert host.log_messages(LogLevel.INFO) == [*ROUND_TRIP, "foreign_calls: wrap 11 -> 13 bytes"]
    assert_no_failures(host)


def test_a_callable_answering_a_status_and_an_unknown_name(proxy_host: Any) -> None:
    host = proxy_host(FOREIGN_CALLS, configuration="refuse", log_level=LogLevel.INFO)
    host.add_foreign_function("refuse", lambda arguments: Status.UNIMPLEMENTED)
    assert bytes(send_body(host, "hello world").upstream_request.body) == b"hello world"
    assert host.log_messages(LogLevel.WARN) == ["foreign_calls: refuse answered 12"]

    unknown = proxy_host(FOREIGN_CALLS, name="unknown")  # default configuration "reverse": not built in
    assert bytes(send_body(unknown, "abc").upstream_request.body) == b"abc"
    assert unknown.log_messages(LogLevel.WARN) == ["foreign_calls: no foreign function reverse"]


def test_the_host_calls_the_plugins_foreign_function(proxy_host: Any) -> None:
    host = proxy_host(FOREIGN_CALLS, log_level=LogLevel.INFO)
    host.call_plugin_foreign_function("foreign_calls", 7, "some arguments")
    assert host.log_messages(LogLevel.INFO) == ["foreign_calls: foreign function 7 called with 14 bytes: "
                                                "some arguments"]
    assert_no_failures(host)
