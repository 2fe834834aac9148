"""Metrics (``proxy_define_metric`` ...) and properties
(``proxy_get_property``, ``proxy_set_property``) through real host calls."""

from __future__ import annotations

import struct

from abi.enums import Status
from abi.proxy.host import ProxyHost
from abi.proxy.services import HostConfig
from abi.wire.pairs import decode_pairs
from abi.proxy.http_stream import OriginResponse
from tests.abi.wat_plugins import load, on_request_headers, results, returned, u32, u64

OUT_OF_BOUNDS = 0x20000

METRICS = """
(func (export "proxy_on_configure") (param i32 i32) (result i32)
  (call $keep (i32.const 0) (call $proxy_define_metric (i32.const 0) (i32.const 0x100) (i32.const 8) (i32.const 0x200)))
  (call $keep (i32.const 1) (call $proxy_define_metric (i32.const 1) (i32.const 0x108) (i32.const 6) (i32.const 0x204)))
  (call $keep (i32.const 2) (call $proxy_define_metric (i32.const 2) (i32.const 0x110) (i32.const 4) (i32.const 0x208)))
  (call $keep (i32.const 3) (call $proxy_define_metric (i32.const 3) (i32.const 0x100) (i32.const 8) (i32.const 0x20c)))
  (call $keep (i32.const 4) (call $proxy_define_metric (i32.const 1) (i32.const 0x100) (i32.const 8) (i32.const 0x20c)))
  (call $keep (i32.const 5) (call $proxy_define_metric (i32.const 0) (i32.const 0x100) (i32.const 8) (i32.const 0x20000)))
  (call $keep (i32.const 6) (call $proxy_define_metric (i32.const 0) (i32.const 0x100) (i32.const 8) (i32.const 0x210)))
  (i32.const 1))
(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
  (call $keep (i32.const 7) (call $proxy_increment_metric (i32.load (i32.const 0x200)) (i64.const 5)))
  (call $keep (i32.const 8) (call $proxy_increment_metric (i32.load (i32.const 0x200)) (i64.const -1)))
  (call $keep (i32.const 9) (call $proxy_increment_metric (i32.load (i32.const 0x204)) (i64.const -2)))
  (call $keep (i32.const 10) (call $proxy_record_metric (i32.load (i32.const 0x208)) (i64.const 42)))
  (call $keep (i32.const 11) (call $proxy_record_metric (i32.const 1000) (i64.const 1)))
  (call $keep (i32.const 12) (call $proxy_get_metric (i32.load (i32.const 0x200)) (i32.const 0x300)))
  (call $keep (i32.const 13) (call $proxy_get_metric (i32.load (i32.const 0x204)) (i32.const 0x308)))
  (call $keep (i32.const 14) (call $proxy_get_metric (i32.load (i32.const 0x208)) (i32.const 0x310)))
  (call $keep (i32.const 15) (call $proxy_get_metric (i32.load (i32.const 0x200)) (i32.const 0x20000)))
  (i32.const 0))
"""


def test_metrics_through_host_calls() -> None:
    host = ProxyHost()
    plugin = load(host, METRICS, data={0x100: "requests", 0x108: "active", 0x110: "size"})
    host.open_stream().send_request_headers({})
    assert results(plugin, 16) == [
        Status.OK, Status.OK, Status.OK, Status.BAD_ARGUMENT, Status.BAD_ARGUMENT, Status.INVALID_MEMORY_ACCESS,
        Status.OK,  # the same counter again
        Status.OK, Status.BAD_ARGUMENT, Status.OK, Status.OK, Status.NOT_FOUND,
        Status.OK, Status.OK, Status.BAD_ARGUMENT, Status.INVALID_MEMORY_ACCESS]
    assert [u32(plugin, address) for address in (0x200, 0x204, 0x208, 0x210)] == [4, 5, 6, 4]
    assert u64(plugin, 0x300) == 5
    assert u64(plugin, 0x308) == (1 << 64) - 2
    assert host.services.metrics.report() == {"active": -2, "requests": 5, "size": {"count": 1, "sum": 42, "values": [42]}}
    assert host.trace.hostcalls("proxy_define_metric")[0]["args"] == {"type": "COUNTER", "name": "requests"}


def get_property(slot: int, path: tuple[int, int], out: int) -> str:
    return (f"(call $keep (i32.const {slot}) (call $proxy_get_property (i32.const {path[0]}) (i32.const {path[1]})"
            f" (i32.const {out}) (i32.const {out + 4})))")


PATHS = {
    0x100: b"request\0path", 0x110: b"request\0path\0", 0x120: b"plugin_name", 0x130: b"plugin_root_id",
    0x140: b"source\0address", 0x150: b"source\0port", 0x160: b"custom\0tenant", 0x170: b"request\0headers",
    0x180: b"nope\0nothing", 0x190: b"request\0time", 0x1a0: b"mine", 0x1b0: b"node\0meta\0team",
    0x1c0: b"value!",
}


def test_properties_as_a_stream_context_sees_them() -> None:
    host = ProxyHost(HostConfig(properties={"custom.tenant": "acme", "source.address": "10.0.0.1:5000",
                                            "node.meta": {"team": "a"}}))
    plugin = load(host, on_request_headers(
        get_property(0, (0x100, 12), 0x200) + get_property(1, (0x110, 13), 0x208)
        + get_property(2, (0x120, 11), 0x210) + get_property(3, (0x130, 14), 0x218)
        + get_property(4, (0x140, 14), 0x220) + get_property(5, (0x150, 11), 0x228)
        + get_property(6, (0x160, 13), 0x230) + get_property(7, (0x170, 15), 0x238)
        + get_property(8, (0x180, 12), 0x240) + get_property(9, (0x190, 12), 0x248)
        + get_property(10, (0x1b0, 14), 0x250) + get_property(11, (0x100, 12), OUT_OF_BOUNDS - 2)
        + get_property(12, (OUT_OF_BOUNDS, 4), 0x258)), name="props", root_id="rid", data=PATHS)
    stream = host.open_stream()
    stream.send_request_headers([(":path", "/p"), ("x-a", "1"), ("x-a", "2")])
    assert results(plugin, 13) == [Status.OK] * 8 + [Status.NOT_FOUND] + [Status.OK] * 2 + \
        [Status.INVALID_MEMORY_ACCESS] * 2
    assert returned(plugin, 0x200, 0x204) == b"/p"
    assert returned(plugin, 0x208, 0x20c) == b"/p"
    assert returned(plugin, 0x210, 0x214) == b"props"
    assert returned(plugin, 0x218, 0x21c) == b"rid"
    assert returned(plugin, 0x220, 0x224) == b"10.0.0.1:5000"
    assert returned(plugin, 0x228, 0x22c) == struct.pack("<q", 5000)
    assert returned(plugin, 0x230, 0x234) == b"acme"
    assert decode_pairs(returned(plugin, 0x238, 0x23c)) == [(b":path", b"/p"), (b"x-a", b"1,2")]
    assert returned(plugin, 0x248, 0x24c) == struct.pack("<q", stream.start_time_ns)
    assert returned(plugin, 0x250, 0x254) == b"a"


def test_set_property_is_shared_along_the_chain_but_not_from_a_root_context() -> None:
    host = ProxyHost()
    setter = load(host, on_request_headers(
        "(call $keep (i32.const 0) (call $proxy_set_property (i32.const 0x1a0) (i32.const 4)"
        " (i32.const 0x1c0) (i32.const 6)))"
        "(call $keep (i32.const 1) (call $proxy_set_property (i32.const 0x1a0) (i32.const 4)"
        f" (i32.const {OUT_OF_BOUNDS}) (i32.const 6)))"),
        """(func (export "proxy_on_configure") (param i32 i32) (result i32)
             (call $keep (i32.const 2) (call $proxy_set_property (i32.const 0x1a0) (i32.const 4)
                                                                 (i32.const 0x1c0) (i32.const 6)))
             (i32.const 1))""", name="setter", data=PATHS)
    getter = load(host, on_request_headers(get_property(0, (0x1a0, 4), 0x200)), name="getter", data=PATHS)
    host.open_stream().send_request_headers({})
    assert results(setter, 3) == [Status.OK, Status.INVALID_MEMORY_ACCESS, Status.NOT_FOUND]
    assert results(getter, 1) == [Status.OK]
    assert returned(getter, 0x200, 0x204) == b"value!"
    assert host.open_stream().plugin_properties == {}  # each stream starts without


def test_response_attributes_in_the_log() -> None:
    host = ProxyHost()
    plugin = load(host, """(func (export "proxy_on_log") (param i32)
        (call $keep (i32.const 0) (call $proxy_get_property (i32.const 0x100) (i32.const 13)
                                                            (i32.const 0x200) (i32.const 0x204))))""",
                  data={0x100: b"response\0code"})
    stream = host.open_stream(origin=OriginResponse.make({":status": "418"}))
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    assert stream.completed
    assert results(plugin, 1) == [Status.OK]
    assert returned(plugin, 0x200, 0x204) == struct.pack("<q", 418)


def test_root_contexts_see_plugin_and_scenario_properties_only() -> None:
    host = ProxyHost(HostConfig(properties={"custom.tenant": "acme"}))
    plugin = load(host, f"""(func (export "proxy_on_configure") (param i32 i32) (result i32)
        {get_property(0, (0x120, 11), 0x200)} {get_property(1, (0x160, 13), 0x208)}
        {get_property(2, (0x100, 12), 0x210)} (i32.const 1))""", data=PATHS)
    assert results(plugin, 3) == [Status.OK, Status.OK, Status.NOT_FOUND]


def test_a_value_envoy_could_not_serialize() -> None:
    host = ProxyHost(HostConfig(properties={"odd": {"inside": object()}}))
    plugin = load(host, on_request_headers(get_property(0, (0x100, 3), 0x200) + get_property(1, (0x110, 0), 0x208)),
                  data={0x100: "odd"})
    host.open_stream().send_request_headers({})
    assert results(plugin, 2) == [Status.SERIALIZATION_FAILURE, Status.NOT_FOUND]
