"""Just enough of the protobuf wire format to read the ``GrpcService``
(``envoy.config.core.v3.GrpcService``) a plugin may pass to
``proxy_grpc_call`` and ``proxy_grpc_stream`` instead of a cluster name, and
to write the messages Envoy hands plugins as their configuration
(``abi.wire.well_known``).

``parse_message`` is strict about the wire format, as protobuf's
``ParseFromString`` is (a bad tag, a truncated field or a group is a parse
failure), and keeps every field, known or not, as Envoy's parser keeps
unknown fields.
"""

from __future__ import annotations

WIRE_VARINT = 0
WIRE_FIXED64 = 1
WIRE_LENGTH_DELIMITED = 2
WIRE_FIXED32 = 5


class ProtobufError(ValueError):
    """The bytes are not a protobuf message."""


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value = 0
    shift = 0
    while True:
        if position >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
        if shift >= 64:
            raise ProtobufError("varint longer than 10 bytes")


def parse_message(data: bytes) -> dict[int, list[int | bytes]]:
    """Every field of a message: field number → values in order (varints
    and fixed numbers as ints, length-delimited fields as bytes)."""
    fields: dict[int, list[int | bytes]] = {}
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise ProtobufError("field number 0")
        value: int | bytes
        if wire_type == WIRE_VARINT:
            value, position = _varint(data, position)
        elif wire_type in (WIRE_FIXED64, WIRE_FIXED32):
            width = 8 if wire_type == WIRE_FIXED64 else 4
            if position + width > len(data):
                raise ProtobufError("truncated fixed-width field")
            value = int.from_bytes(data[position:position + width], "little")
            position += width
        elif wire_type == WIRE_LENGTH_DELIMITED:
            length, position = _varint(data, position)
            if position + length > len(data):
                raise ProtobufError("truncated length-delimited field")
            value = data[position:position + length]
            position += length
        else:
            raise ProtobufError(f"wire type {wire_type} (groups and reserved types are not read)")
        fields.setdefault(number, []).append(value)
    return fields


def string_field(fields: dict[int, list[int | bytes]], number: int) -> bytes | None:
    """The last value of a string/bytes/message field (protobuf's "last one
    wins"), or ``None``; a number there is a parse failure."""
    values = fields.get(number)
    if not values:
        return None
    value = values[-1]
    if not isinstance(value, bytes):
        raise ProtobufError(f"field {number} is not length-delimited")
    return value


def encode_string_field(number: int, value: bytes) -> bytes:
    """One length-delimited field (strings, bytes and messages)."""
    return _encode_varint(number << 3 | WIRE_LENGTH_DELIMITED) + _encode_varint(len(value)) + value


def encode_varint_field(number: int, value: int) -> bytes:
    """One varint field; a negative value is written as its 64-bit two's
    complement (ten bytes), as protobuf writes negative ``int32`` and
    ``int64``."""
    return _encode_varint(number << 3 | WIRE_VARINT) + _encode_varint(value & ((1 << 64) - 1))


def encode_fixed_field(number: int, value: bytes) -> bytes:
    """One fixed-width field: ``value`` is the 8 (``double``) or 4
    (``float``) little-endian bytes."""
    wire_type = WIRE_FIXED64 if len(value) == 8 else WIRE_FIXED32
    return _encode_varint(number << 3 | wire_type) + value


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
