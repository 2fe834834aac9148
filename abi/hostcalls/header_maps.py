"""Header maps: ``proxy_get_header_map_pairs``, ``proxy_set_header_map_pairs``,
``proxy_get_header_map_value``, ``proxy_add_header_map_value``,
``proxy_replace_header_map_value``, ``proxy_remove_header_map_value``,
``proxy_get_header_map_size``.

Which map exists when is the proxy's business (``abi.proxy.context``); a map
that does not exist now is BAD_ARGUMENT, except that
``proxy_get_header_map_pairs`` answers an empty map, as Envoy does.
"""

from __future__ import annotations

from abi.enums import MapType, Status
from abi.hostcalls.declaration import Bytes, Enum, HostCall, Out, Pairs, host_call
from abi.wire.pairs import encode_pairs
from abi.wire.text import readable


@host_call("proxy_get_header_map_pairs", Enum("map", MapType), Out("data_out"), Out("size_out"))
def proxy_get_header_map_pairs(call: HostCall, map_type: MapType, data_out: int, size_out: int) -> Status:
    pairs = call.context.headers.pairs(map_type)
    call.hand_over(encode_pairs(pairs), data_out, size_out)
    call.result(pairs=[[readable(name), readable(value)] for name, value in pairs])
    return Status.OK


@host_call("proxy_set_header_map_pairs", Enum("map", MapType), Pairs("pairs"))
def proxy_set_header_map_pairs(call: HostCall, map_type: MapType, pairs: list[tuple[bytes, bytes]]) -> Status:
    call.context.headers.set_pairs(map_type, pairs)
    return Status.OK


@host_call("proxy_get_header_map_value", Enum("map", MapType), Bytes("key"), Out("data_out"), Out("size_out"))
def proxy_get_header_map_value(call: HostCall, map_type: MapType, key: bytes, data_out: int,
                               size_out: int) -> Status:
    value = call.context.headers.value(map_type, key)
    if value is None:
        return Status.NOT_FOUND
    call.hand_over(value, data_out, size_out)
    call.result(value=readable(value))
    return Status.OK


@host_call("proxy_add_header_map_value", Enum("map", MapType), Bytes("key"), Bytes("value"))
def proxy_add_header_map_value(call: HostCall, map_type: MapType, key: bytes, value: bytes) -> Status:
    call.context.headers.add(map_type, key, value)
    return Status.OK


@host_call("proxy_replace_header_map_value", Enum("map", MapType), Bytes("key"), Bytes("value"))
def proxy_replace_header_map_value(call: HostCall, map_type: MapType, key: bytes, value: bytes) -> Status:
    call.context.headers.replace(map_type, key, value)
    return Status.OK


@host_call("proxy_remove_header_map_value", Enum("map", MapType), Bytes("key"))
def proxy_remove_header_map_value(call: HostCall, map_type: MapType, key: bytes) -> Status:
    call.context.headers.remove(map_type, key)
    return Status.OK


@host_call("proxy_get_header_map_size", Enum("map", MapType), Out("size_out"))
def proxy_get_header_map_size(call: HostCall, map_type: MapType, size_out: int) -> Status:
    size = call.context.headers.size(map_type)
    call.memory.write_u32(size_out, size)
    call.result(size=size)
    return Status.OK
