"""Properties (``proxy_get_property``/``proxy_set_property``): Envoy's
attribute paths and value encodings.

A path is a list of segments; the guest joins them with NUL bytes, with or
without a trailing NUL (the Go SDK adds one, the Rust SDK does not — both are
accepted).  Scenario files write paths with dots (``source.address``).

Values are encoded as Envoy's ``serializeValue`` does: strings raw (UTF-8),
bytes raw, integers (and timestamps and durations, in nanoseconds) as 8-byte
little-endian two's complement, booleans as one byte, floats as 8-byte
doubles, mappings as pairs (values encoded the same way) and lists as pairs
whose keys are the elements and whose values are empty.

Where a value comes from, first match wins:

1. values plugins set on this stream or connection with
   ``proxy_set_property`` (shared by every plugin of the chain, like Envoy's
   filter state; setting one in a root context is NOT_FOUND, as in Envoy,
   since there is no stream to hold it);
2. the stream's (or connection's) own ``properties`` from the scenario;
3. the scenario's top-level ``properties`` (visible in root contexts too);
4. attributes derived by the host: ``plugin_name``, ``plugin_root_id``,
   ``plugin_vm_id`` everywhere, in stream contexts ``request.*``,
   ``response.*``, ``source.*``, ``destination.*``, ``connection.*``,
   ``connection_id`` and ``upstream.*`` (see ``stream_attribute``), and in
   connection contexts ``source.*``, ``destination.*``, ``upstream.*``,
   ``connection.*`` and ``connection_id``.

A path that runs into a mapping (or list) value continues inside it, so
``{"node.metadata": {"team": "a"}}`` answers both ``node.metadata`` (a pairs
map) and ``node.metadata.team`` (``"a"``).  Anything else is NOT_FOUND; a
value of a type that cannot be encoded is SERIALIZATION_FAILURE.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from abi.context_interface import StatusError
from abi.enums import Status
from abi.proxy.headers import HeaderMap
from abi.wire.pairs import encode_pairs
from abi.wire.text import from_wire, to_wire

PropertyPath = tuple[str, ...]

DEFAULT_SOURCE_ADDRESS = "127.0.0.1:40000"
DEFAULT_DESTINATION_ADDRESS = "127.0.0.1:10000"
DEFAULT_UPSTREAM_ADDRESS = "127.0.0.1:8080"
PROTOCOL = "HTTP/1.1"

_I64 = struct.Struct("<q")
_U64 = struct.Struct("<Q")
_F64 = struct.Struct("<d")


class UnencodableValue(ValueError):
    """A property value of a type Envoy would not serialize."""


def parse_path(raw: bytes) -> PropertyPath:
    """The segments of a NUL-separated path from the guest (a trailing NUL
    is optional); ``()`` for an empty path."""
    segments = raw.split(b"\0")
    if segments and segments[-1] == b"":
        segments.pop()
    return tuple(from_wire(segment) for segment in segments)


def dotted_path(key: str) -> PropertyPath:
    """``"source.address"`` to ``("source", "address")``."""
    return tuple(key.split("."))


def format_path(path: PropertyPath) -> str:
    return ".".join(path)


def encode_value(value: Any) -> bytes:
    """Envoy's encoding of an attribute value (see the module docstring)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return to_wire(value)
    if isinstance(value, bool):
        return b"\1" if value else b"\0"
    if isinstance(value, int):
        if -(1 << 63) <= value < (1 << 63):
            return _I64.pack(value)
        if 0 <= value < (1 << 64):
            return _U64.pack(value)
        raise UnencodableValue(f"integer {value} does not fit in 64 bits")
    if isinstance(value, float):
        return _F64.pack(value)
    if isinstance(value, HeaderMap):
        return value.serialize()
    if isinstance(value, Mapping):
        return encode_pairs((encode_value(key), encode_value(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return encode_pairs((encode_value(item), b"") for item in value)
    raise UnencodableValue(f"cannot encode a property value of type {type(value).__name__}")


def lookup_in(layer: Mapping[PropertyPath, Any], path: PropertyPath) -> tuple[bool, Any]:
    """Find ``path`` in one layer: the longest stored prefix, then inside its
    value for the remaining segments.  ``(found, value)``."""
    for length in range(len(path), 0, -1):
        prefix = path[:length]
        if prefix in layer:
            found, value = _descend(layer[prefix], path[length:])
            if found:
                return True, value
    return False, None


def _descend(value: Any, rest: Sequence[str]) -> tuple[bool, Any]:
    for segment in rest:
        if isinstance(value, HeaderMap):
            inner = value.get(segment)
            if inner is None:
                return False, None
            value = inner
        elif isinstance(value, Mapping):
            if segment not in value:
                return False, None
            value = value[segment]
        elif isinstance(value, (list, tuple)):
            if not segment.isdigit() or int(segment) >= len(value):
                return False, None
            value = value[int(segment)]
        else:
            return False, None
    return value is not None, value


class StreamFacts(Protocol):
    """What the derived ``request.*``/``response.*`` attributes are computed
    from (``abi.proxy.http_stream.HttpStream`` provides it)."""

    connection_id: int
    start_time_ns: int
    end_time_ns: int | None
    request_headers: HeaderMap
    request_body_size: int
    response_headers: HeaderMap | None
    response_trailers: HeaderMap | None
    response_body_size: int
    response_details: str | None
    reached_origin: bool


def stream_attribute(facts: StreamFacts, path: PropertyPath, address_of: Callable[[str], str]) -> Any:
    """A derived stream attribute, or ``None``.  ``address_of("source")``
    gives the (possibly configured) address of a peer, from which its port
    is derived."""
    if len(path) == 1 and path[0] == "connection_id":
        return facts.connection_id
    if len(path) != 2:
        return None
    group, name = path
    if group == "request":
        return _request_attribute(facts, name)
    if group == "response":
        return _response_attribute(facts, name)
    return peer_attribute(facts.connection_id, facts.reached_origin, group, name, address_of)


def connection_attribute(connection_id: int, upstream_connected: bool, path: PropertyPath,
                         address_of: Callable[[str], str]) -> Any:
    """A derived attribute of a TCP connection, or ``None``: its peers'
    addresses and ports, and ``connection.*``."""
    if len(path) == 1 and path[0] == "connection_id":
        return connection_id
    if len(path) != 2:
        return None
    return peer_attribute(connection_id, upstream_connected, path[0], path[1], address_of)


def peer_attribute(connection_id: int, upstream_connected: bool, group: str, name: str,
                   address_of: Callable[[str], str]) -> Any:
    """``source.*``, ``destination.*``, ``upstream.*`` (once connected) and
    ``connection.*``."""
    if group in ("source", "destination") or (group == "upstream" and upstream_connected):
        address = address_of(group)
        if name == "address":
            return address
        if name == "port":
            return _port_of(address)
        return None
    if group == "connection":
        return {"id": connection_id, "mtls": False}.get(name)
    return None


def default_address(peer: str) -> str:
    return {"source": DEFAULT_SOURCE_ADDRESS, "destination": DEFAULT_DESTINATION_ADDRESS}.get(
        peer, DEFAULT_UPSTREAM_ADDRESS)


def _request_attribute(facts: StreamFacts, name: str) -> Any:
    headers = facts.request_headers
    path = headers.get(":path")
    if name == "path":
        return path
    if name == "url_path":
        return None if path is None else path.split("?", 1)[0]
    if name == "query":
        return None if path is None else (path.split("?", 1)[1] if "?" in path else "")
    if name in ("host", "scheme", "method"):
        return headers.get({"host": ":authority", "scheme": ":scheme", "method": ":method"}[name])
    if name in ("referer", "useragent", "id"):
        return headers.get({"referer": "referer", "useragent": "user-agent", "id": "x-request-id"}[name])
    if name == "headers":
        return _joined(headers)
    if name == "time":
        return facts.start_time_ns
    if name == "duration":
        return None if facts.end_time_ns is None else facts.end_time_ns - facts.start_time_ns
    if name == "protocol":
        return PROTOCOL
    if name == "size":
        return facts.request_body_size
    if name == "total_size":
        return facts.request_body_size + _header_bytes(headers)
    return None


def _response_attribute(facts: StreamFacts, name: str) -> Any:
    headers = facts.response_headers
    if headers is None:
        return None
    if name == "code":
        status = headers.get(":status")
        return int(status) if status is not None and status.isdigit() else None
    if name == "code_details":
        return facts.response_details
    if name == "flags":
        return 0
    if name == "headers":
        return _joined(headers)
    if name == "trailers":
        return _joined(facts.response_trailers or HeaderMap())
    if name == "size":
        return facts.response_body_size
    if name == "total_size":
        return facts.response_body_size + _header_bytes(headers)
    return None


def _joined(headers: HeaderMap) -> dict[str, str]:
    """A header map as Envoy's attribute map: one entry per name, repeated
    values joined with commas."""
    joined: dict[str, str] = {}
    for name, value in headers:
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


def _header_bytes(headers: HeaderMap) -> int:
    return sum(len(to_wire(name)) + len(to_wire(value)) for name, value in headers)


def _port_of(address: str) -> int | None:
    _, _, port = address.rpartition(":")
    return int(port) if port.isdigit() else None


PropertyLayer = Mapping[PropertyPath, Any]


class PropertyScope(Protocol):
    """Where a context's properties come from besides the host's: the
    layers of its stream or connection (values plugins set first, then the
    scenario's), and its derived attributes (``None`` when it has none)."""

    def property_layers(self) -> list[PropertyLayer]: ...

    def set_property(self, path: PropertyPath, value: bytes) -> None: ...

    def derived_property(self, path: PropertyPath, address_of: Callable[[str], str]) -> Any: ...


class ContextProperties:
    """``abi.context_interface.Properties`` for one context (sources in the
    module docstring); ``scope`` is ``None`` for root contexts."""

    def __init__(self, host_layer: PropertyLayer, plugin_values: Mapping[PropertyPath, Any],
                 scope: PropertyScope | None) -> None:
        self.host_layer = host_layer
        self.plugin_values = plugin_values
        self.scope = scope

    def lookup(self, path: PropertyPath) -> Any:
        """The value of ``path`` before encoding, or ``None``."""
        if not path:
            return None
        layers = [*(self.scope.property_layers() if self.scope is not None else []), self.host_layer]
        for layer in layers:
            found, value = lookup_in(layer, path)
            if found:
                return value
        if path in self.plugin_values:
            return self.plugin_values[path]
        if self.scope is None:
            return None

        def address_of(peer: str) -> str:
            for layer in layers:
                found, value = lookup_in(layer, (peer, "address"))
                if found and isinstance(value, str):
                    return value
            return default_address(peer)

        return self.scope.derived_property(path, address_of)

    def get(self, path: tuple[bytes, ...]) -> bytes | None:
        value = self.lookup(tuple(from_wire(segment) for segment in path))
        if value is None:
            return None
        try:
            return encode_value(value)
        except UnencodableValue as error:
            raise StatusError(Status.SERIALIZATION_FAILURE, str(error)) from None

    def set(self, path: tuple[bytes, ...], value: bytes) -> None:
        if self.scope is None:
            raise StatusError(Status.NOT_FOUND, "a root context has no stream to hold properties")
        self.scope.set_property(tuple(from_wire(segment) for segment in path), bytes(value))
