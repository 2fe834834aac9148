"""gRPC callouts: unary calls and streams against the simulated services,
errors, timeouts, cancelling, the service argument as Envoy reads it, and
answering by hand."""

from __future__ import annotations

import struct

import pytest

from abi.enums import Status
from abi.frontends.report import build_report
from abi.proxy.grpc_callouts import GrpcAnswer
from abi.proxy.host import ProxyHost
from abi.proxy.plugins import Plugin
from abi.wire.pairs import encode_pairs
from abi.wire.protobuf import encode_string_field
from tests.abi.wat_plugins import load, results, returned

METADATA = encode_pairs([(b"x-caller", b"test")])
GRPC_SERVICE = encode_string_field(1, encode_string_field(1, b"nowhere"))
TEXTS = {0x100: "grpc", 0x110: "echo.Echo", 0x120: "Say", 0x128: "Chat", 0x130: "ping", 0x138: "missing",
         0x140: "a", 0x141: "b", 0x300: METADATA, 0x380: GRPC_SERVICE}
EVENTS = 0x4000

RECORDER = """
(global $events (mut i32) (i32.const 0x4000))
(func $event (param $code i32) (param $token i32) (param $arg i32)
  (i32.store (global.get $events) (local.get $code))
  (i32.store (i32.add (global.get $events) (i32.const 4)) (local.get $token))
  (i32.store (i32.add (global.get $events) (i32.const 8)) (local.get $arg))
  (global.set $events (i32.add (global.get $events) (i32.const 12))))
(func (export "proxy_on_grpc_receive_initial_metadata") (param $ctx i32) (param $token i32) (param $n i32)
  (call $event (i32.const 1) (local.get $token) (local.get $n))
  (call $keep (i32.const 10) (call $proxy_get_header_map_value (i32.const 4) (i32.const 0x140) (i32.const 1)
                                                              (i32.const 0x620) (i32.const 0x624))))
(func (export "proxy_on_grpc_receive") (param $ctx i32) (param $token i32) (param $size i32)
  (call $event (i32.const 2) (local.get $token) (local.get $size))
  (call $keep (i32.const 11) (call $proxy_get_buffer_bytes (i32.const 5) (i32.const 0) (local.get $size)
                                                           (i32.const 0x600) (i32.const 0x604))))
(func (export "proxy_on_grpc_receive_trailing_metadata") (param $ctx i32) (param $token i32) (param $n i32)
  (call $event (i32.const 3) (local.get $token) (local.get $n)))
(func (export "proxy_on_grpc_close") (param $ctx i32) (param $token i32) (param $status i32)
  (call $event (i32.const 4) (local.get $token) (local.get $status))
  (call $keep (i32.const 12) (call $proxy_get_status (i32.const 0x610) (i32.const 0x614) (i32.const 0x618))))
"""


def call(slot: int, service: tuple[int, int] = (0x100, 4), method: tuple[int, int] = (0x120, 3),
         timeout: int = 1000, token_at: int = 0x200) -> str:
    return (f"(call $keep (i32.const {slot}) (call $proxy_grpc_call (i32.const {service[0]}) (i32.const {service[1]})"
            f" (i32.const 0x110) (i32.const 9) (i32.const {method[0]}) (i32.const {method[1]})"
            f" (i32.const 0x300) (i32.const {len(METADATA)}) (i32.const 0x130) (i32.const 4)"
            f" (i32.const {timeout}) (i32.const {token_at})))")


def configure(body: str) -> str:
    return f'(func (export "proxy_on_configure") (param i32 i32) (result i32) {body} (i32.const 1))' + RECORDER


def events(plugin: Plugin) -> list[tuple[int, int, int]]:
    memory = plugin.instance.memory.data
    found = []
    address = EVENTS
    while struct.unpack_from("<I", memory, address)[0]:
        found.append(struct.unpack_from("<3I", memory, address))
        address += 12
    return found


def host_with(*answers: GrpcAnswer, method: str = "echo.Echo/Say") -> ProxyHost:
    host = ProxyHost()
    host.add_grpc_upstream("grpc", {method: list(answers)})
    return host


def test_a_unary_call_gets_its_message_as_envoy_delivers_it() -> None:
    host = host_with(GrpcAnswer.make(["pong"], initial_metadata={"a": "1"}, trailing_metadata={"t": "2"}))
    plugin = load(host, configure(call(0)), data=TEXTS)
    assert results(plugin, 1) == [Status.OK]
    assert events(plugin) == [(2, 1, 4)]  # only the message: no metadata callbacks for a unary call
    assert results(plugin, 12)[11] == Status.OK and returned(plugin, 0x600, 0x604) == b"pong"
    (record,) = build_report(host)["grpc_calls"]
    assert record["kind"] == "unary" and record["sent"] == ["ping"] and record["state"] == "closed"
    assert record["metadata"] == [["x-caller", "test"]]
    assert record["status"] == {"code": 0, "message": ""}


def test_a_unary_error_closes_with_its_status() -> None:
    host = host_with(GrpcAnswer.make(status=7, message="denied"))
    plugin = load(host, configure(call(0)), data=TEXTS)
    assert events(plugin) == [(4, 1, 7)]
    assert results(plugin, 13)[12] == Status.OK
    assert struct.unpack_from("<I", plugin.instance.memory.data, 0x610)[0] == 7
    assert returned(plugin, 0x614, 0x618) == b"denied"


def test_a_unary_call_times_out_at_its_deadline() -> None:
    host = host_with(GrpcAnswer.make(["late"], delay_ms=80))
    plugin = load(host, configure(call(0, timeout=50)), data=TEXTS)
    host.advance(49)
    assert events(plugin) == []
    host.advance(1)
    assert events(plugin) == [(4, 1, 4)]  # DEADLINE_EXCEEDED
    assert returned(plugin, 0x614, 0x618) == b"deadline exceeded"


def test_cancel_and_close_of_a_call() -> None:
    host = host_with(GrpcAnswer.make(["pong"]))
    plugin = load(host, configure(
        call(0) + "(call $keep (i32.const 1) (call $proxy_grpc_cancel (i32.load (i32.const 0x200))))"
        "(call $keep (i32.const 2) (call $proxy_grpc_cancel (i32.load (i32.const 0x200))))"
        + call(3, token_at=0x204) + "(call $keep (i32.const 4) (call $proxy_grpc_close (i32.load (i32.const 0x204))))"
        "(call $keep (i32.const 5) (call $proxy_grpc_send (i32.const 99) (i32.const 0) (i32.const 0) (i32.const 0)))"),
        data=TEXTS)
    assert results(plugin, 6) == [Status.OK, Status.OK, Status.NOT_FOUND, Status.OK, Status.OK, Status.NOT_FOUND]
    host.advance(100)
    assert events(plugin) == []
    assert [call["state"] for call in build_report(host)["grpc_calls"]] == ["cancelled", "cancelled"]


STREAM = """
(call $keep (i32.const 0) (call $proxy_grpc_stream (i32.const 0x100) (i32.const 4) (i32.const 0x110) (i32.const 9)
                                                   (i32.const 0x128) (i32.const 4) (i32.const 0) (i32.const 0)
                                                   (i32.const 0x200)))
(call $keep (i32.const 1) (call $proxy_grpc_send (i32.load (i32.const 0x200)) (i32.const 0x140) (i32.const 1)
                                                 (i32.const 0)))
(call $keep (i32.const 2) (call $proxy_grpc_send (i32.load (i32.const 0x200)) (i32.const 0x141) (i32.const 1)
                                                 (i32.const 1)))
"""


def test_a_stream_gets_metadata_one_reply_per_message_then_trailers_and_close() -> None:
    host = host_with(GrpcAnswer.make(["x", "y", "z"], initial_metadata={"a": "meta"}, trailing_metadata={"t": "1"}),
                     method="echo.Echo/Chat")
    plugin = load(host, configure(STREAM), data=TEXTS)
    assert results(plugin, 3) == [Status.OK, Status.OK, Status.OK]
    assert struct.unpack_from("<I", plugin.instance.memory.data, 0x200)[0] == 2  # streams have even tokens
    assert events(plugin) == [(1, 2, 1), (2, 2, 1), (2, 2, 1), (3, 2, 1), (4, 2, 0)]
    assert results(plugin, 11)[10] == Status.OK and returned(plugin, 0x620, 0x624) == b"meta"
    (record,) = build_report(host)["grpc_calls"]
    assert record["sent"] == ["a", "b"]
    assert [event["event"] for event in record["received"]] == ["initial_metadata", "message", "message",
                                                                "trailing_metadata", "close"]
    assert [event.get("message") for event in record["received"]][1:3] == ["x", "y"]


def test_a_stream_closes_when_its_replies_run_out() -> None:
    host = host_with(GrpcAnswer.make(["only"], status=5, message="gone"), method="echo.Echo/Chat")
    plugin = load(host, configure(STREAM), data=TEXTS)
    assert events(plugin) == [(1, 2, 0), (2, 2, 4), (3, 2, 0), (4, 2, 5)]


@pytest.mark.parametrize(("method", "service", "status", "closed"), [
    ((0x138, 7), (0x100, 4), Status.OK, 12),  # the cluster has no such method: UNIMPLEMENTED
    ((0x120, 3), (0x380, len(GRPC_SERVICE)), Status.OK, 14),  # a GrpcService naming an unknown cluster
    ((0x120, 3), (0x110, 9), Status.PARSE_FAILURE, None),  # a plain name that is no cluster
])
def test_what_cannot_be_answered(method: tuple[int, int], service: tuple[int, int], status: Status,
                                 closed: int | None) -> None:
    host = host_with(GrpcAnswer.make(["pong"]))
    plugin = load(host, configure(call(0, service=service, method=method)), data=TEXTS)
    assert results(plugin, 1) == [status]
    assert events(plugin) == ([] if closed is None else [(4, 1, closed)])


def test_calls_answered_by_hand() -> None:
    host = ProxyHost()
    host.add_grpc_upstream("grpc")
    plugin = load(host, configure(call(0) + STREAM.replace("(i32.const 0)", "(i32.const 5)", 1)
                                  .replace("0x200", "0x208")), data=TEXTS)
    unary, stream = host.pending_grpc_calls
    host.respond_grpc_call(unary, "by hand")
    host.grpc_stream_event(stream, "initial_metadata", {"a": "b"})
    host.grpc_stream_event(stream, "message", b"m1")
    host.grpc_stream_event(stream, "close", status=3, status_message="no")
    assert events(plugin) == [(2, 1, 7), (1, 2, 1), (2, 2, 2), (4, 2, 3)]
    assert host.pending_grpc_calls == []
