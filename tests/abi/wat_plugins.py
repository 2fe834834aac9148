"""Small hand-written plugins in WAT for the host tests.

``plugin_wat(*functions, data=...)`` wraps callback bodies into a complete
module: every ``env`` function of the host imported under its own name
(``$proxy_log``...), one exported memory, a bump allocator exported as
``proxy_on_memory_allocate`` (heap from 0x8000), the ABI marker, the given
data segments, and ``$keep``: ``(call $keep (i32.const N) value)`` stores a
value in result slot N (address 0x1000 + 4N), which tests read back with
``results(plugin)``.  Statuses of host calls are kept that way.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

from abi.proxy.host import ProxyHost
from abi.hostcalls import HOST_CALLS
from abi.proxy.plugins import Plugin, PluginConfig

RESULTS = 0x1000
HEAP = 0x8000


def _wat_string(data: bytes) -> str:
    return "".join(chr(b) if 0x20 <= b < 0x7F and b not in (0x22, 0x5C) else f"\\{b:02x}" for b in data)


def _import(name: str) -> str:
    func_type = HOST_CALLS[name].func_type
    params = " ".join(str(t) for t in func_type.params)
    return f'  (import "env" "{name}" (func ${name} (param {params}) (result i32)))' if params else \
        f'  (import "env" "{name}" (func ${name} (result i32)))'


def plugin_wat(*functions: str, data: Mapping[int, str | bytes] | None = None, abi: str = "0_2_1",
               allocator: str | None = "proxy_on_memory_allocate", extra: str = "") -> str:
    lines = ["(module"]
    lines.extend(_import(name) for name in sorted(HOST_CALLS))
    lines.append(extra)
    lines.append('  (memory (export "memory") 2)')
    lines.append(f"  (global $heap (mut i32) (i32.const {HEAP}))")
    if abi:
        lines.append(f'  (func (export "proxy_abi_version_{abi}"))')
    lines.append(f"  (func $keep (param $slot i32) (param $value i32)"
                 f" (i32.store (i32.add (i32.const {RESULTS}) (i32.mul (local.get $slot) (i32.const 4)))"
                 f" (local.get $value)))")
    if allocator:
        lines.append(f'  (func (export "{allocator}") (param $size i32) (result i32) (local $p i32)'
                     f" (local.set $p (global.get $heap))"
                     f" (global.set $heap (i32.add (global.get $heap) (local.get $size)))"
                     f" (local.get $p))")
    for address, value in (data or {}).items():
        raw = value.encode() if isinstance(value, str) else value
        lines.append(f'  (data (i32.const {address}) "{_wat_string(raw)}")')
    lines.extend(f"  {function}" for function in functions)
    lines.append(")")
    return "\n".join(lines)


def load(host: ProxyHost, *functions: str, name: str = "t", data: Mapping[int, str | bytes] | None = None,
         abi: str = "0_2_1", allocator: str | None = "proxy_on_memory_allocate", extra: str = "",
         kind: str = "http", **settings: object) -> Plugin:
    """Load a WAT plugin as an HTTP filter, a ``network`` filter or a
    ``service``."""
    source = plugin_wat(*functions, data=data, abi=abi, allocator=allocator, extra=extra)
    loader = {"http": host.load_plugin, "network": host.load_network_plugin, "service": host.load_service}[kind]
    return loader(PluginConfig(name, source.encode(), **settings))  # type: ignore[arg-type]


def results(plugin: Plugin, count: int = 16) -> list[int]:
    return list(struct.unpack_from(f"<{count}I", plugin.instance.memory.data, RESULTS))


def u32(plugin: Plugin, address: int) -> int:
    return struct.unpack_from("<I", plugin.instance.memory.data, address)[0]


def u64(plugin: Plugin, address: int) -> int:
    return struct.unpack_from("<Q", plugin.instance.memory.data, address)[0]


def returned(plugin: Plugin, pointer_at: int, size_at: int) -> bytes:
    """What the host handed over through the out-pointers at ``pointer_at``
    and ``size_at``."""
    pointer, size = u32(plugin, pointer_at), u32(plugin, size_at)
    return bytes(plugin.instance.memory.data[pointer:pointer + size])


def on_request_headers(body: str, result: int = 0) -> str:
    """``proxy_on_request_headers`` running ``body``, answering ``result``."""
    return (f'(func (export "proxy_on_request_headers") (param $ctx i32) (param $n i32) (param $eos i32)'
            f" (result i32) {body} (i32.const {result}))")
