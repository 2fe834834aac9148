"""Buffers: ``proxy_get_buffer_bytes``, ``proxy_set_buffer_bytes``,
``proxy_get_buffer_status``, ``proxy_get_configuration``."""

from __future__ import annotations

import pytest

from abi.enums import BufferType, Status
from abi.proxy.host import ProxyHost
from abi.context_interface import StatusError
from abi.proxy.contexts import edit_buffer
from abi.proxy.http_stream import OriginResponse
from tests.abi.wat_plugins import load, on_request_headers, results, returned, u32

OUT_OF_BOUNDS = 0x20000


@pytest.mark.parametrize(("start", "length", "expected"), [
    (0, 0, b"new-body"),         # prepend
    (0, 4, b"new-"),             # replace (length == size)
    (0, 100, b"new-"),           # replace (length > size)
    (4, 0, b"bodynew-"),         # append (start == size)
    (99, 7, b"bodynew-"),        # append (start > size)
])
def test_envoy_edit_rules(start: int, length: int, expected: bytes) -> None:
    buffer = bytearray(b"body")
    edit_buffer(buffer, start, length, b"new-")
    assert buffer == expected


@pytest.mark.parametrize(("start", "length"), [(0, 2), (1, 0), (2, 2)])
def test_other_edits_are_bad_arguments(start: int, length: int) -> None:
    with pytest.raises(StatusError) as raised:
        edit_buffer(bytearray(b"body"), start, length, b"x")
    assert raised.value.status is Status.BAD_ARGUMENT


def get_bytes(slot: int, buffer: int, start: int, size: int, out: int) -> str:
    return (f"(call $keep (i32.const {slot}) (call $proxy_get_buffer_bytes (i32.const {buffer}) (i32.const {start})"
            f" (i32.const {size}) (i32.const {out}) (i32.const {out + 4})))")


def configure(body: str) -> str:
    return (f'(func (export "proxy_on_configure") (param i32 i32) (result i32) {body} (i32.const 1))')


def test_configurations_while_configuring() -> None:
    host = ProxyHost()
    plugin = load(host, configure(
        get_bytes(0, BufferType.PLUGIN_CONFIGURATION, 0, 100, 0x200)
        + get_bytes(1, BufferType.VM_CONFIGURATION, 0, 100, 0x210)
        + get_bytes(2, BufferType.PLUGIN_CONFIGURATION, 2, 3, 0x220)
        + get_bytes(3, BufferType.PLUGIN_CONFIGURATION, 99, 1, 0x230)
        + get_bytes(4, 9, 0, 1, 0x240)
        + get_bytes(5, BufferType.REQUEST_BODY, 0, 1, 0x250)
        + get_bytes(6, BufferType.PLUGIN_CONFIGURATION, 0, 100, OUT_OF_BOUNDS - 4)
        + "(call $keep (i32.const 7) (call $proxy_set_buffer_bytes (i32.const 7) (i32.const 0) (i32.const 0)"
          " (i32.const 0x100) (i32.const 1)))"
        + "(call $keep (i32.const 8) (call $proxy_get_buffer_status (i32.const 7) (i32.const 0x260) (i32.const 0x264)))"
        + "(call $keep (i32.const 9) (call $proxy_get_configuration (i32.const 0x270) (i32.const 0x274)))"),
        data={0x100: "x"}, configuration={"a": 1}, vm_configuration="vm!")
    assert results(plugin, 10) == [Status.OK, Status.OK, Status.OK, Status.BAD_ARGUMENT, Status.BAD_ARGUMENT,
                                   Status.NOT_FOUND, Status.INVALID_MEMORY_ACCESS, Status.BAD_ARGUMENT,
                                   Status.OK, Status.OK]
    assert returned(plugin, 0x200, 0x204) == b'{"a":1}'
    assert returned(plugin, 0x210, 0x214) == b"vm!"
    assert returned(plugin, 0x220, 0x224) == b"a\":"
    assert u32(plugin, 0x260) == 7 and u32(plugin, 0x264) == 0
    assert returned(plugin, 0x270, 0x274) == b'{"a":1}'


def test_plugin_configuration_is_gone_after_configuring_but_the_vm_configuration_stays() -> None:
    host = ProxyHost()
    plugin = load(host, on_request_headers(
        get_bytes(0, BufferType.PLUGIN_CONFIGURATION, 0, 10, 0x200)
        + get_bytes(1, BufferType.VM_CONFIGURATION, 0, 10, 0x210)
        + "(call $keep (i32.const 2) (call $proxy_get_configuration (i32.const 0x220) (i32.const 0x224)))"),
        configuration="plugin", vm_configuration="vm")
    host.open_stream().send_request_headers({})
    assert results(plugin, 3) == [Status.NOT_FOUND, Status.OK, Status.OK]
    assert returned(plugin, 0x210, 0x214) == b"vm"
    assert returned(plugin, 0x220, 0x224) == b"vm"


def test_empty_results_get_pointer_zero() -> None:
    host = ProxyHost()
    plugin = load(host, configure(
        "(i64.store (i32.const 0x200) (i64.const -1))" + get_bytes(0, BufferType.PLUGIN_CONFIGURATION, 0, 10, 0x200)))
    assert results(plugin, 1) == [Status.OK]
    assert (u32(plugin, 0x200), u32(plugin, 0x204)) == (0, 0)


REQUEST_BODY_EDITS = """
(func (export "proxy_on_request_body") (param $ctx i32) (param $size i32) (param $eos i32) (result i32)
  (if (i32.eqz (local.get $eos)) (then (return (i32.const 1))))
  (call $keep (i32.const 0) (call $proxy_get_buffer_status (i32.const 0) (i32.const 0x200) (i32.const 0x204)))
  (call $keep (i32.const 1) (call $proxy_set_buffer_bytes (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0x100) (i32.const 1)))
  (call $keep (i32.const 2) (call $proxy_set_buffer_bytes (i32.const 0) (i32.const 0xffffffff) (i32.const 0) (i32.const 0x101) (i32.const 1)))
  (call $keep (i32.const 3) (call $proxy_set_buffer_bytes (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 0x101) (i32.const 1)))
  (call $keep (i32.const 4) (call $proxy_set_buffer_bytes (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0x20000) (i32.const 1)))
  (call $keep (i32.const 5) (call $proxy_get_buffer_bytes (i32.const 0) (i32.const 0) (i32.const 100) (i32.const 0x210) (i32.const 0x214)))
  (call $keep (i32.const 6) (call $proxy_get_buffer_bytes (i32.const 1) (i32.const 0) (i32.const 100) (i32.const 0x220) (i32.const 0x224)))
  (i32.const 0))
"""


def test_request_body_edits_reach_the_origin() -> None:
    host = ProxyHost()
    plugin = load(host, REQUEST_BODY_EDITS, data={0x100: "<>"})
    stream = host.open_stream(origin=OriginResponse.make())
    stream.send_request_headers({":path": "/"})
    stream.send_request_body("ab")
    stream.send_request_body("cd", end_of_stream=True)
    assert results(plugin, 7) == [Status.OK, Status.OK, Status.OK, Status.BAD_ARGUMENT,
                                  Status.INVALID_MEMORY_ACCESS, Status.OK, Status.NOT_FOUND]
    assert u32(plugin, 0x200) == 4  # cumulative: both chunks are buffered
    assert returned(plugin, 0x210, 0x214) == b"<abcd>"
    assert bytes(stream.upstream_request.body) == b"<abcd>"


def test_a_body_buffer_exists_only_in_its_body_callback() -> None:
    host = ProxyHost()
    plugin = load(host, on_request_headers(get_bytes(0, BufferType.REQUEST_BODY, 0, 1, 0x200)
                                           + get_bytes(1, BufferType.HTTP_CALL_RESPONSE_BODY, 0, 1, 0x200)
                                           + get_bytes(2, BufferType.DOWNSTREAM_DATA, 0, 1, 0x200)))
    host.open_stream().send_request_headers({})
    assert results(plugin, 3) == [Status.NOT_FOUND] * 3
