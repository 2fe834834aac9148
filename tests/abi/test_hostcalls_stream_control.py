"""``proxy_continue_stream``, ``proxy_close_stream``,
``proxy_send_local_response``, ``proxy_set_effective_context``,
``proxy_done`` and the 0.1.0 leftovers."""

from __future__ import annotations

from abi.enums import Action, Status, StreamType
from abi.proxy.host import ProxyHost
from abi.proxy.http_callouts import HttpCallResponse
from abi.wire.pairs import encode_pairs
from abi.proxy.http_stream import OriginResponse
from tests.abi.wat_plugins import load, on_request_headers, results

OUT_OF_BOUNDS = 0x20000
REPLY_HEADERS = encode_pairs([(b"X-Reply", b"yes"), (b"Content-Type", b"application/json")])


def call(slot: int, function: str, *args: int) -> str:
    arguments = " ".join(f"(i32.const {arg})" for arg in args)
    return f"(call $keep (i32.const {slot}) (call ${function} {arguments}))"


def test_stream_type_statuses() -> None:
    host = ProxyHost()
    plugin = load(host, on_request_headers(
        call(0, "proxy_continue_stream", 4) + call(1, "proxy_continue_stream", StreamType.DOWNSTREAM)
        + call(2, "proxy_close_stream", 7) + call(3, "proxy_close_stream", StreamType.UPSTREAM)
        + call(4, "proxy_continue_request") + call(5, "proxy_continue_response")
        + call(6, "proxy_clear_route_cache")))
    stream = host.open_stream(origin=OriginResponse.make())
    assert stream.send_request_headers({}, end_of_stream=True) is Action.CONTINUE
    assert results(plugin, 7) == [Status.BAD_ARGUMENT, Status.OK, Status.BAD_ARGUMENT, Status.OK,
                                  Status.OK, Status.OK, Status.OK]
    effects = [entry["result"].get("effect") for entry in host.trace.hostcalls("proxy_continue_stream")]
    assert effects[1] == "nothing: an HTTP stream has no TCP direction to continue"
    assert stream.completed and stream.reset_reason is None


def test_continue_from_the_root_context_changes_nothing() -> None:
    host = ProxyHost()
    plugin = load(host, """(func (export "proxy_on_configure") (param i32 i32) (result i32)
        (call $keep (i32.const 0) (call $proxy_continue_stream (i32.const 0))) (i32.const 1))""")
    assert results(plugin, 1) == [Status.OK]
    assert host.trace.hostcalls("proxy_continue_stream")[0]["result"]["effect"] == \
        "nothing: this context has no stream or connection"


def test_close_stream_resets_the_stream() -> None:
    host = ProxyHost()
    load(host, on_request_headers(call(0, "proxy_close_stream", StreamType.REQUEST), 1))
    stream = host.open_stream(origin=OriginResponse.make())
    stream.send_request_headers({}, end_of_stream=True)
    assert stream.completed
    assert stream.reset_reason == "closed by plugin t (request)"
    assert stream.downstream_response is None and stream.upstream_request is None


def test_local_response_statuses_and_reply() -> None:
    host = ProxyHost()
    plugin = load(host, on_request_headers(
        call(0, "proxy_send_local_response", 418, 0x100, 7, 0x108, 3, 0x110, 7, 0xFFFFFFFF)
        + call(1, "proxy_send_local_response", 500, OUT_OF_BOUNDS, 7, 0x108, 3, 0, 0, 0xFFFFFFFF)
        + call(2, "proxy_send_local_response", 418, 0x100, 7, 0x108, 3, 0x300, len(REPLY_HEADERS), 14)
        + call(3, "proxy_send_local_response", 401, 0x100, 7, 0x108, 3, 0x300, len(REPLY_HEADERS), 16),
        1), data={0x100: "details", 0x108: "{}\n", 0x110: b"\x05\x00\x00\x00abc", 0x300: REPLY_HEADERS})
    stream = host.open_stream(origin=OriginResponse.make())
    assert stream.send_request_headers({}, end_of_stream=True) is Action.PAUSE
    assert results(plugin, 4) == [Status.BAD_ARGUMENT, Status.INVALID_MEMORY_ACCESS, Status.OK, Status.OK]
    reply = stream.local_response
    assert (reply.status, reply.details, reply.body, reply.grpc_status) == (418, "details", b"{}\n", 14)
    assert stream.downstream_response.headers.items() == [
        (":status", "418"), ("x-reply", "yes"), ("content-type", "application/json"), ("content-length", "3")]
    assert bytes(stream.downstream_response.body) == b"{}\n"
    assert [entry["event"] for entry in host.trace.entries if entry["type"] == "event"].count(
        "local_response_ignored") == 1


def test_set_effective_context() -> None:
    host = ProxyHost()
    plugin = load(host, on_request_headers(
        call(0, "proxy_set_effective_context", 99) + call(1, "proxy_set_effective_context", 1)
        + call(2, "proxy_add_header_map_value", 0, 0x100, 1, 0x100, 1)
        + call(3, "proxy_set_effective_context", 2)
        + call(4, "proxy_add_header_map_value", 0, 0x100, 1, 0x100, 1)), data={0x100: "x"})
    stream = host.open_stream()
    stream.send_request_headers({})
    assert results(plugin, 5) == [Status.BAD_ARGUMENT, Status.OK, Status.BAD_ARGUMENT, Status.OK, Status.OK]
    assert stream.request_headers.get("x") == "x"


def done_later(call_headers: bytes) -> str:
    """``proxy_on_done`` answers false; for the root context it first starts
    an HTTP call, whose answer calls ``proxy_done``."""
    return f"""
(func (export "proxy_on_done") (param $ctx i32) (result i32)
  (call $keep (i32.const 0) (call $proxy_done))
  (if (i32.eq (local.get $ctx) (i32.const 1)) (then
    (drop (call $proxy_http_call (i32.const 0x100) (i32.const 1) (i32.const 0x300) (i32.const {len(call_headers)})
                                 (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
                                 (i32.const 0x2f0)))))
  (i32.const 0))
(func (export "proxy_on_delete") (param $ctx i32)
  (call $keep (i32.const 2) (i32.add (i32.load (i32.const 0x1008)) (i32.const 1))))
(func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32)
  (call $keep (i32.const 1) (call $proxy_done)))
"""


def test_proxy_done_after_a_false_on_done() -> None:
    host = ProxyHost()
    host.add_upstream("c")
    call_headers = encode_pairs([(b":method", b"GET"), (b":path", b"/"), (b":authority", b"c")])
    plugin = load(host, done_later(call_headers), data={0x100: "c", 0x300: call_headers})
    stream = host.open_stream(origin=OriginResponse.make())
    stream.send_request_headers({}, end_of_stream=True)
    assert results(plugin, 3) == [Status.NOT_FOUND, 0, 1]  # a stream's false on_done is ignored
    assert stream.done_ignored == ["t"]
    host.shutdown()
    assert plugin.root.waiting_for_done
    assert results(plugin, 3)[2] == 1  # the root context is not deleted yet
    host.respond_http_call(host.pending_http_calls[0], HttpCallResponse.make())
    assert results(plugin, 3)[1:] == [Status.OK, 2]
    assert not plugin.root.waiting_for_done
    assert 1 not in plugin.vm.contexts
