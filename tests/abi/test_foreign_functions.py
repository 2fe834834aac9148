"""``proxy_call_foreign_function``: Envoy's built-in ``compress`` /
``uncompress``, functions a test registers, unknown names; and
``proxy_on_foreign_function`` with its arguments buffer."""

from __future__ import annotations

import zlib

from abi.enums import Status
from abi.proxy.foreign_functions import CANNED, answering, returning
from abi.proxy.host import ProxyHost
from tests.abi.wat_plugins import load, results, returned


def foreign(slot: int, name: tuple[int, int], arguments: tuple[int, int], out: int) -> str:
    return (f"(call $keep (i32.const {slot}) (call $proxy_call_foreign_function (i32.const {name[0]})"
            f" (i32.const {name[1]}) (i32.const {arguments[0]}) (i32.const {arguments[1]})"
            f" (i32.const {out}) (i32.const {out + 4})))")


TEXTS = {0x100: "compress", 0x110: "uncompress", 0x120: "nope", 0x130: "shout", 0x140: "denied",
         0x150: "hello hello hello"}


def configure(body: str) -> str:
    return f'(func (export "proxy_on_configure") (param i32 i32) (result i32) {body} (i32.const 1))'


def test_compress_and_uncompress_round_trip() -> None:
    host = ProxyHost()
    compressed = zlib.compress(b"hello hello hello")
    plugin = load(host, configure(
        foreign(0, (0x100, 8), (0x150, 17), 0x200)
        + "(call $keep (i32.const 1) (call $proxy_call_foreign_function (i32.const 0x110) (i32.const 10)"
          " (i32.load (i32.const 0x200)) (i32.load (i32.const 0x204)) (i32.const 0x208) (i32.const 0x20c)))"
        + foreign(2, (0x110, 10), (0x150, 17), 0x210)), data=TEXTS)
    assert results(plugin, 3) == [Status.OK, Status.OK, Status.SERIALIZATION_FAILURE]
    assert returned(plugin, 0x200, 0x204) == compressed
    assert returned(plugin, 0x208, 0x20c) == b"hello hello hello"


def test_registered_functions_and_unknown_names() -> None:
    host = ProxyHost()
    host.add_foreign_function("shout", CANNED["upper"])
    host.add_foreign_function("denied", answering(Status.BAD_ARGUMENT))
    host.add_foreign_function("compress", returning(b"replaced"))
    plugin = load(host, configure(
        foreign(0, (0x130, 5), (0x150, 5), 0x200) + foreign(1, (0x140, 6), (0x150, 5), 0x208)
        + foreign(2, (0x120, 4), (0x150, 5), 0x210) + foreign(3, (0x100, 8), (0x150, 5), 0x218)), data=TEXTS)
    assert results(plugin, 4) == [Status.OK, Status.BAD_ARGUMENT, Status.NOT_FOUND, Status.OK]
    assert returned(plugin, 0x200, 0x204) == b"HELLO"
    assert returned(plugin, 0x218, 0x21c) == b"replaced"


def test_a_python_callable_gets_the_bytes() -> None:
    host = ProxyHost()
    seen = []
    host.add_foreign_function("shout", lambda data: seen.append(data) or data[::-1])
    plugin = load(host, configure(foreign(0, (0x130, 5), (0x150, 5), 0x200)), data=TEXTS)
    assert seen == [b"hello"] and returned(plugin, 0x200, 0x204) == b"olleh"


def test_the_host_calls_the_plugins_foreign_function() -> None:
    host = ProxyHost()
    plugin = load(host, """(func (export "proxy_on_foreign_function") (param $root i32) (param $id i32)
                                                                      (param $size i32)
        (call $keep (i32.const 0) (local.get $id))
        (call $keep (i32.const 1) (call $proxy_get_buffer_bytes (i32.const 8) (i32.const 0) (local.get $size)
                                                                (i32.const 0x200) (i32.const 0x204))))""")
    host.call_plugin_foreign_function("t", 7, b"args")
    assert results(plugin, 2) == [7, Status.OK]
    assert returned(plugin, 0x200, 0x204) == b"args"
