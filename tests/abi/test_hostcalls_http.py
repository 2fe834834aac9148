"""``proxy_http_call``, ``proxy_get_status`` and ``proxy_on_http_call_response``."""

from __future__ import annotations

import pytest

from abi.enums import BufferType, Status
from abi.proxy.host import ProxyHost
from abi.proxy.http_callouts import HttpCallResponse, UpstreamResponse
from abi.wire.pairs import encode_pairs
ROOT_CONTEXT_ID = 1  # the first context of a VM: its first plugin's root
from tests.abi.wat_plugins import load, on_request_headers, results, returned, u32

OUT_OF_BOUNDS = 0x20000
FULL = encode_pairs([(b":method", b"GET"), (b":path", b"/check"), (b":authority", b"auth"), (b"X-Up", b"1")])
NO_AUTHORITY = encode_pairs([(b":method", b"GET"), (b":path", b"/check")])
TEXTS = {0x100: "auth", 0x108: "nowhere", 0x110: "body", 0x300: FULL, 0x400: NO_AUTHORITY}


def http_call(slot: int, cluster: tuple[int, int], headers: tuple[int, int], timeout: int = 1000,
              token_at: int = 0x200) -> str:
    return (f"(call $keep (i32.const {slot}) (call $proxy_http_call (i32.const {cluster[0]}) (i32.const {cluster[1]})"
            f" (i32.const {headers[0]}) (i32.const {headers[1]}) (i32.const 0x110) (i32.const 4)"
            f" (i32.const 0) (i32.const 0) (i32.const {timeout}) (i32.const {token_at})))")


ANSWER = """
(func (export "proxy_on_http_call_response") (param $ctx i32) (param $token i32) (param $headers i32)
      (param $body i32) (param $trailers i32)
  (call $keep (i32.const 8) (local.get $ctx))
  (call $keep (i32.const 9) (local.get $token))
  (call $keep (i32.const 10) (local.get $headers))
  (call $keep (i32.const 11) (local.get $body))
  (call $keep (i32.const 12) (call $proxy_get_status (i32.const 0x500) (i32.const 0x504) (i32.const 0x508)))
  (call $keep (i32.const 13) (call $proxy_get_buffer_bytes (i32.const 4) (i32.const 0) (i32.const 100)
                                                          (i32.const 0x510) (i32.const 0x514))))
"""


@pytest.fixture
def host() -> ProxyHost:
    host = ProxyHost()
    host.add_upstream("auth", [UpstreamResponse(200, (("X-User", "alice"),), b"ok"), UpstreamResponse(reset=True)])
    return host


def test_statuses_of_bad_calls(host: ProxyHost) -> None:
    plugin = load(host, on_request_headers(
        http_call(0, (0x108, 7), (0x300, len(FULL)))
        + http_call(1, (0x100, 4), (0x400, len(NO_AUTHORITY)))
        + http_call(2, (0x100, 4), (0x300, len(FULL)), timeout=-1)
        + http_call(3, (0x100, 4), (0x300, len(FULL)), token_at=OUT_OF_BOUNDS - 2)
        + http_call(4, (OUT_OF_BOUNDS, 4), (0x300, len(FULL)))
        + http_call(5, (0x100, 4), (0x300, 7))), data=TEXTS)
    host.open_stream().send_request_headers({})
    assert results(plugin, 6) == [Status.BAD_ARGUMENT, Status.BAD_ARGUMENT, Status.BAD_ARGUMENT,
                                  Status.INVALID_MEMORY_ACCESS, Status.INVALID_MEMORY_ACCESS,
                                  Status.BAD_ARGUMENT]
    assert host.http_calls == []
    reasons = [entry["result"].get("reason") for entry in host.trace.hostcalls("proxy_http_call")]
    assert reasons[:3] == ["unknown cluster 'nowhere'", "the call's headers lack :authority", "negative timeout -1"]


def test_a_call_is_answered_after_the_callback_on_the_root_context(host: ProxyHost) -> None:
    plugin = load(host, on_request_headers(http_call(0, (0x100, 4), (0x300, len(FULL)))), ANSWER, data=TEXTS)
    stream = host.open_stream("s")
    stream.send_request_headers({":path": "/"})
    assert results(plugin, 1) == [Status.OK]
    assert u32(plugin, 0x200) == 1  # the token
    assert results(plugin, 14)[8:14] == [ROOT_CONTEXT_ID, 1, 2, 2, Status.OK, Status.OK]
    assert (u32(plugin, 0x500), returned(plugin, 0x504, 0x508)) == (0, b"")
    assert returned(plugin, 0x510, 0x514) == b"ok"
    (call,) = stream.http_calls
    assert call.headers.items() == [(":method", "GET"), (":path", "/check"), (":authority", "auth"), ("x-up", "1")]
    assert (call.body, call.timeout_ms, call.context_id) == (b"body", 1000, 2)
    names = [name for _, name, _ in host.trace.callbacks()]
    assert names[-2:] == ["proxy_on_request_headers", "proxy_on_http_call_response"]


def test_a_failed_call_has_no_headers_and_a_status(host: ProxyHost) -> None:
    plugin = load(host, on_request_headers(http_call(0, (0x100, 4), (0x300, len(FULL)))), ANSWER, data=TEXTS)
    host.open_stream().send_request_headers({})
    host.open_stream().send_request_headers({})
    assert results(plugin, 14)[8:14] == [ROOT_CONTEXT_ID, 2, 0, 0, Status.OK, Status.NOT_FOUND]
    assert (u32(plugin, 0x500), returned(plugin, 0x504, 0x508)) == (Status.BROKEN_CONNECTION, b"reset")


def test_the_last_answer_repeats_and_tokens_count_per_plugin(host: ProxyHost) -> None:
    plugin = load(host, on_request_headers(http_call(0, (0x100, 4), (0x300, len(FULL)))), ANSWER, data=TEXTS)
    for _ in range(3):
        host.open_stream().send_request_headers({})
    outcomes = [call.response.failure for call in host.http_calls]
    assert outcomes == [None, "reset", "reset"]
    assert [call.token for call in host.http_calls] == [1, 2, 3]
    assert results(plugin, 10)[9] == 3


def test_a_timeout_answers_504() -> None:
    host = ProxyHost()
    host.add_upstream("auth", [UpstreamResponse(timeout=True)])
    plugin = load(host, on_request_headers(http_call(0, (0x100, 4), (0x300, len(FULL)))), ANSWER, data=TEXTS)
    host.open_stream().send_request_headers({})
    assert host.http_calls[0].pending  # the answer comes when the call's 1000 ms timeout expires
    host.advance(999)
    assert host.http_calls[0].pending
    host.advance(1)
    assert returned(plugin, 0x510, 0x514) == b"upstream request timeout"
    assert host.http_calls[0].response.headers.get(":status") == "504"


def test_calls_answered_by_hand() -> None:
    host = ProxyHost()
    host.add_upstream("auth")
    plugin = load(host, on_request_headers(http_call(0, (0x100, 4), (0x300, len(FULL)))), ANSWER, data=TEXTS)
    host.open_stream().send_request_headers({})
    (call,) = host.pending_http_calls
    assert results(plugin, 10)[9] == 0  # not answered yet
    host.respond_http_call(call, HttpCallResponse.make(404, body="missing"))
    assert host.pending_http_calls == []
    assert results(plugin, 14)[9:12] == [1, 1, 7]
    assert returned(plugin, 0x510, 0x514) == b"missing"
    from abi.errors import UsageError

    with pytest.raises(UsageError):
        host.respond_http_call(call, HttpCallResponse.reset())


def test_call_response_body_is_not_a_buffer_outside_the_answer(host: ProxyHost) -> None:
    plugin = load(host, on_request_headers(
        f"(call $keep (i32.const 0) (call $proxy_get_buffer_status (i32.const {BufferType.HTTP_CALL_RESPONSE_BODY})"
        " (i32.const 0x200) (i32.const 0x204)))"), data=TEXTS)
    host.open_stream().send_request_headers({})
    assert results(plugin, 1) == [Status.NOT_FOUND]
