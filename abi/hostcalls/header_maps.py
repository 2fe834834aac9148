"""Header maps: ``proxy_get_header_map_pairs``, ``proxy_set_header_map_pairs``,
``proxy_get_header_map_value``, ``proxy_add_header_map_value``,
``proxy_replace_header_map_value``, ``proxy_remove_header_map_value``,
``proxy_get_header_map_size``.

Which map exists when, following the spec and Envoy (``Context::getMap``):

* request/response headers — in that direction's headers callback, and for
  as long as the plugin keeps them paused there; read-only in ``proxy_on_log``;
* request/response trailers — in the trailers callback (and while paused
  there); in a body callback with ``end_of_stream`` and no trailers, a change
  creates them (Envoy's ``addDecodedTrailers``); response trailers read-only in
  ``proxy_on_log``;
* HTTP call response headers and trailers — during
  ``proxy_on_http_call_response`` of a call that got a response, read-only;
* gRPC metadata never (no gRPC here).

A map that does not exist now is BAD_ARGUMENT, except that
``proxy_get_header_map_pairs`` answers an empty map, as Envoy does.  Names
are lower-cased; see ``abi.headers`` for the semantics of each change.
``proxy_get_header_map_size`` answers the size of the pairs serialization,
as the spec names it (Envoy answers the bytes of names and values).
"""

from __future__ import annotations

from abi.enums import MapType, Status
from abi.headers import HeaderMap
from abi.hostcalls.base import Enum, HostCall, Out, Pairs, StatusError, Text, host_call
from abi.text import readable, to_wire

READ_ONLY_MAPS = (MapType.HTTP_CALL_RESPONSE_HEADERS, MapType.HTTP_CALL_RESPONSE_TRAILERS)


def map_of(call: HostCall, map_type: MapType, writable: bool) -> HeaderMap | None:
    """The map as it is now, or ``None`` when the plugin cannot reach it."""
    if map_type in READ_ONLY_MAPS:
        response = call.frame.http_response if call.frame is not None else None
        if response is None or response.failure is not None or writable:
            return None
        if map_type is MapType.HTTP_CALL_RESPONSE_HEADERS:
            return response.headers
        return response.trailers if response.trailers is not None else HeaderMap()
    context = call.context
    if context is None or context.slot is None:
        return None
    return context.slot.header_map(map_type, writable)


def _existing(call: HostCall, map_type: MapType, writable: bool) -> HeaderMap:
    headers = map_of(call, map_type, writable)
    if headers is None:
        action = "changed" if writable else "read"
        raise StatusError(Status.BAD_ARGUMENT, f"{map_type.name} cannot be {action} now")
    return headers


@host_call("proxy_get_header_map_pairs", Enum("map", MapType), Out("data_out"), Out("size_out"))
def proxy_get_header_map_pairs(call: HostCall, map_type: MapType, data_out: int, size_out: int) -> Status:
    headers = map_of(call, map_type, writable=False)
    pairs = headers if headers is not None else HeaderMap()
    call.hand_over(pairs.serialize(), data_out, size_out)
    call.result(pairs=pairs.to_report())
    return Status.OK


@host_call("proxy_set_header_map_pairs", Enum("map", MapType), Pairs("pairs"))
def proxy_set_header_map_pairs(call: HostCall, map_type: MapType, pairs: list[tuple[bytes, bytes]]) -> Status:
    _existing(call, map_type, writable=True).set_pairs(pairs)
    return Status.OK


@host_call("proxy_get_header_map_value", Enum("map", MapType), Text("key"), Out("data_out"), Out("size_out"))
def proxy_get_header_map_value(call: HostCall, map_type: MapType, key: str, data_out: int,
                               size_out: int) -> Status:
    value = _existing(call, map_type, writable=False).get(key)
    if value is None:
        return Status.NOT_FOUND
    call.hand_over(to_wire(value), data_out, size_out)
    call.result(value=readable(value))
    return Status.OK


@host_call("proxy_add_header_map_value", Enum("map", MapType), Text("key"), Text("value"))
def proxy_add_header_map_value(call: HostCall, map_type: MapType, key: str, value: str) -> Status:
    _existing(call, map_type, writable=True).add(key, value)
    return Status.OK


@host_call("proxy_replace_header_map_value", Enum("map", MapType), Text("key"), Text("value"))
def proxy_replace_header_map_value(call: HostCall, map_type: MapType, key: str, value: str) -> Status:
    _existing(call, map_type, writable=True).replace(key, value)
    return Status.OK


@host_call("proxy_remove_header_map_value", Enum("map", MapType), Text("key"))
def proxy_remove_header_map_value(call: HostCall, map_type: MapType, key: str) -> Status:
    _existing(call, map_type, writable=True).remove(key)
    return Status.OK


@host_call("proxy_get_header_map_size", Enum("map", MapType), Out("size_out"))
def proxy_get_header_map_size(call: HostCall, map_type: MapType, size_out: int) -> Status:
    size = _existing(call, map_type, writable=False).serialized_size()
    call.memory.write_u32(size_out, size)
    call.result(size=size)
    return Status.OK
