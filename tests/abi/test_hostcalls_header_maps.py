"""Header maps: every ``proxy_*_header_map_*`` function, where each map
exists, and the pairs handed over."""

from __future__ import annotations

import struct

from abi.enums import MapType, Status
from abi.proxy.host import ProxyHost
from abi.wire.pairs import decode_pairs, encode_pairs
from abi.proxy.http_stream import OriginResponse
from tests.abi.wat_plugins import load, on_request_headers, results, returned, u32

OUT_OF_BOUNDS = 0x20000
KEY_X_A = (0x100, 3)       # "x-a"
KEY_UPPER = (0x104, 5)     # "X-NEW"
VALUE = (0x10a, 2)         # "v2"
KEY_PATH = (0x10c, 5)      # ":path"
KEY_MISSING = (0x112, 4)   # "nope"
TEXTS = {0x100: "x-a", 0x104: "X-NEW", 0x10a: "v2", 0x10c: ":path", 0x112: "nope"}


def call(slot: int, function: str, *args: int) -> str:
    arguments = " ".join(f"(i32.const {arg})" for arg in args)
    return f"(call $keep (i32.const {slot}) (call ${function} {arguments}))"


def test_reading_the_request_headers() -> None:
    host = ProxyHost()
    plugin = load(host, on_request_headers(
        call(0, "proxy_get_header_map_pairs", MapType.REQUEST_HEADERS, 0x200, 0x204)
        + call(1, "proxy_get_header_map_value", MapType.REQUEST_HEADERS, *KEY_PATH, 0x210, 0x214)
        + call(2, "proxy_get_header_map_value", MapType.REQUEST_HEADERS, *KEY_MISSING, 0x220, 0x224)
        + call(3, "proxy_get_header_map_size", MapType.REQUEST_HEADERS, 0x230)
        + call(4, "proxy_get_header_map_value", MapType.REQUEST_HEADERS, *KEY_X_A, 0x240, 0x244)
        + call(5, "proxy_get_header_map_value", MapType.REQUEST_HEADERS, OUT_OF_BOUNDS - 1, 5, 0x250, 0x254)
        + call(6, "proxy_get_header_map_value", MapType.REQUEST_HEADERS, *KEY_PATH, OUT_OF_BOUNDS, 0x254)
        + call(7, "proxy_get_header_map_pairs", 8, 0x260, 0x264)
        + call(8, "proxy_get_header_map_size", MapType.REQUEST_HEADERS, OUT_OF_BOUNDS - 2)),
        data=TEXTS)
    headers = [(":path", "/p"), ("x-a", "1"), ("x-a", "2")]
    host.open_stream().send_request_headers(headers)
    assert results(plugin, 9) == [Status.OK, Status.OK, Status.NOT_FOUND, Status.OK, Status.OK,
                                  Status.INVALID_MEMORY_ACCESS, Status.INVALID_MEMORY_ACCESS,
                                  Status.BAD_ARGUMENT, Status.INVALID_MEMORY_ACCESS]
    pairs = returned(plugin, 0x200, 0x204)
    assert decode_pairs(pairs) == [(b":path", b"/p"), (b"x-a", b"1"), (b"x-a", b"2")]
    assert returned(plugin, 0x210, 0x214) == b"/p"
    assert u32(plugin, 0x230) == len(pairs)
    assert returned(plugin, 0x240, 0x244) == b"1"  # the first of repeated values


def test_changing_the_request_headers() -> None:
    host = ProxyHost()
    plugin = load(host, on_request_headers(
        call(0, "proxy_add_header_map_value", MapType.REQUEST_HEADERS, *KEY_X_A, *VALUE)
        + call(1, "proxy_replace_header_map_value", MapType.REQUEST_HEADERS, *KEY_UPPER, *VALUE)
        + call(2, "proxy_remove_header_map_value", MapType.REQUEST_HEADERS, *KEY_MISSING)
        + call(3, "proxy_replace_header_map_value", MapType.REQUEST_HEADERS, *KEY_PATH, *VALUE)
        + call(4, "proxy_add_header_map_value", MapType.RESPONSE_HEADERS, *KEY_X_A, *VALUE)
        + call(5, "proxy_add_header_map_value", 9, *KEY_X_A, *VALUE)
        + call(6, "proxy_add_header_map_value", MapType.REQUEST_HEADERS, *KEY_X_A, OUT_OF_BOUNDS, 1)
        + call(7, "proxy_remove_header_map_value", MapType.REQUEST_HEADERS, OUT_OF_BOUNDS, 1)
        + call(8, "proxy_add_header_map_value", MapType.HTTP_CALL_RESPONSE_HEADERS, *KEY_X_A, *VALUE)),
        data=TEXTS)
    stream = host.open_stream(origin=OriginResponse.make())
    stream.send_request_headers([(":path", "/p"), ("x-a", "1")], end_of_stream=True)
    assert results(plugin, 9) == [Status.OK, Status.OK, Status.OK, Status.OK, Status.BAD_ARGUMENT,
                                  Status.BAD_ARGUMENT, Status.INVALID_MEMORY_ACCESS,
                                  Status.INVALID_MEMORY_ACCESS, Status.BAD_ARGUMENT]
    assert stream.upstream_request.headers.items() == [(":path", "v2"), ("x-a", "1"), ("x-a", "v2"),
                                                       ("x-new", "v2")]


def test_setting_all_pairs_and_malformed_pairs() -> None:
    good = encode_pairs([(b":path", b"/set"), (b"X-Set", b"yes")])
    bad = struct.pack("<3I", 1, 1, 9) + b"a\x00b\x00"
    host = ProxyHost()
    plugin = load(host, on_request_headers(
        call(0, "proxy_set_header_map_pairs", MapType.REQUEST_HEADERS, 0x300, len(bad))
        + call(1, "proxy_set_header_map_pairs", MapType.REQUEST_HEADERS, 0x100, len(good))
        + call(2, "proxy_set_header_map_pairs", MapType.REQUEST_HEADERS, OUT_OF_BOUNDS - 4, 8)),
        data={0x100: good, 0x300: bad})
    stream = host.open_stream(origin=OriginResponse.make())
    stream.send_request_headers({":path": "/old"}, end_of_stream=True)
    assert results(plugin, 3) == [Status.BAD_ARGUMENT, Status.OK, Status.INVALID_MEMORY_ACCESS]
    assert stream.upstream_request.headers.items() == [(":path", "/set"), ("x-set", "yes")]
    assert host.trace.hostcalls("proxy_set_header_map_pairs")[1]["args"]["pairs"] == [[":path", "/set"],
                                                                                       ["X-Set", "yes"]]


def test_maps_that_do_not_exist_now() -> None:
    host = ProxyHost()
    plugin = load(host, on_request_headers(
        call(0, "proxy_get_header_map_pairs", MapType.RESPONSE_HEADERS, 0x200, 0x204)
        + call(1, "proxy_get_header_map_value", MapType.RESPONSE_HEADERS, *KEY_X_A, 0x210, 0x214)
        + call(2, "proxy_get_header_map_size", MapType.REQUEST_TRAILERS, 0x220)
        + call(3, "proxy_get_header_map_value", MapType.GRPC_INITIAL_METADATA, *KEY_X_A, 0x210, 0x214)
        + call(4, "proxy_get_header_map_pairs", MapType.HTTP_CALL_RESPONSE_HEADERS, 0x230, 0x234)),
        data=TEXTS)
    host.open_stream().send_request_headers({":path": "/"})
    assert results(plugin, 5) == [Status.OK, Status.BAD_ARGUMENT, Status.BAD_ARGUMENT, Status.BAD_ARGUMENT,
                                  Status.OK]
    assert (u32(plugin, 0x204), u32(plugin, 0x234)) == (0, 0)  # empty maps


BODY_THEN_HEADERS = f"""
(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
(func (export "proxy_on_request_body") (param i32) (param i32) (param $eos i32) (result i32)
  {call(0, "proxy_get_header_map_value", MapType.REQUEST_HEADERS, *KEY_PATH, 0x200, 0x204)}
  (if (local.get $eos) (then
    {call(1, "proxy_add_header_map_value", MapType.REQUEST_TRAILERS, *KEY_X_A, *VALUE)}))
  (i32.const 0))
(func (export "proxy_on_log") (param i32)
  {call(2, "proxy_get_header_map_value", MapType.REQUEST_HEADERS, *KEY_PATH, 0x210, 0x214)}
  {call(3, "proxy_add_header_map_value", MapType.REQUEST_HEADERS, *KEY_X_A, *VALUE)}
  {call(4, "proxy_get_header_map_value", MapType.RESPONSE_HEADERS, *KEY_X_A, 0x220, 0x224)})
"""


def test_headers_after_their_callback_and_in_the_log() -> None:
    host = ProxyHost()
    plugin = load(host, BODY_THEN_HEADERS, data=TEXTS)
    stream = host.open_stream(origin=OriginResponse.make([(":status", "200"), ("x-a", "resp")]))
    stream.send_request_headers({":path": "/p"})
    stream.send_request_body("data", end_of_stream=True)
    assert results(plugin, 5) == [Status.BAD_ARGUMENT, Status.OK, Status.OK, Status.BAD_ARGUMENT, Status.OK]
    assert returned(plugin, 0x210, 0x214) == b"/p"
    assert returned(plugin, 0x220, 0x224) == b"resp"
    # trailers added at the end of the body follow the body to the origin
    assert stream.upstream_request.trailers.items() == [("x-a", "v2")]
    assert bytes(stream.upstream_request.body) == b"data"


def test_http_call_response_maps_are_read_only_and_only_during_the_answer() -> None:
    host = ProxyHost()
    host.add_upstream("c", [])
    call_headers = encode_pairs([(b":method", b"GET"), (b":path", b"/"), (b":authority", b"c")])
    plugin = load(host, on_request_headers(
        "(drop (call $proxy_http_call (i32.const 0x10c) (i32.const 1) (i32.const 0x300) (i32.const "
        f"{len(call_headers)}) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 100)"
        " (i32.const 0x2f0)))", 1),
        f"""(func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32)
          {call(0, "proxy_get_header_map_pairs", MapType.HTTP_CALL_RESPONSE_HEADERS, 0x200, 0x204)}
          {call(1, "proxy_get_header_map_value", MapType.HTTP_CALL_RESPONSE_TRAILERS, *KEY_X_A, 0x210, 0x214)}
          {call(2, "proxy_remove_header_map_value", MapType.HTTP_CALL_RESPONSE_HEADERS, *KEY_X_A)}
          {call(3, "proxy_get_header_map_size", MapType.HTTP_CALL_RESPONSE_HEADERS, 0x220)})""",
        data={**TEXTS, 0x10c: "c", 0x300: call_headers})
    host.open_stream().send_request_headers({":path": "/"})
    from abi.proxy.http_callouts import HttpCallResponse

    host.respond_http_call(host.pending_http_calls[0], HttpCallResponse.make(201, {"x-a": "h"}, "b", {"x-a": "t"}))
    assert results(plugin, 4) == [Status.OK, Status.OK, Status.BAD_ARGUMENT, Status.OK]
    assert decode_pairs(returned(plugin, 0x200, 0x204)) == [(b":status", b"201"), (b"x-a", b"h")]
    assert returned(plugin, 0x210, 0x214) == b"t"
