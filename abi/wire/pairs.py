"""The "pairs" serialization of header maps (spec v0.2.1, Serialization).

Little-endian: a u32 count, then ``count`` pairs of u32 (key length, value
length), then every key and value, each followed by a NUL byte.  An empty map
may be given as zero bytes or as the single byte 0x00.

Decoding is strict where the SDKs are consistent (lengths must fit, every
string must end in NUL) so a plugin's encoding bug shows up as BAD_ARGUMENT
instead of garbled headers; bytes after the last pair are ignored, as Envoy
does.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

_U32 = struct.Struct("<I")

MAX_PAIRS = 1024
MAX_PAIRS_BYTES = 1024 * 1024
"""proxy-wasm-cpp-host's bounds on a pairs map a plugin sends
(``PROXY_WASM_HOST_PAIRS_MAX_COUNT`` and ``_BYTES``): larger ones are refused."""

Pair = tuple[bytes, bytes]


class PairsFormatError(ValueError):
    """The bytes are not a valid pairs encoding; the message says where."""


def encode_pairs(pairs: Iterable[tuple[bytes, bytes]]) -> bytes:
    """Serialize ``(key, value)`` byte pairs.  No pairs give ``b""`` (what
    Envoy hands out for an empty map)."""
    items = [(bytes(key), bytes(value)) for key, value in pairs]
    if not items:
        return b""
    header = bytearray(_U32.pack(len(items)))
    body = bytearray()
    for key, value in items:
        header += _U32.pack(len(key)) + _U32.pack(len(value))
        body += key + b"\0" + value + b"\0"
    return bytes(header + body)


def encoded_size(pairs: Iterable[tuple[bytes, bytes]]) -> int:
    """The length ``encode_pairs`` would produce, without building it."""
    count = 0
    strings = 0
    for key, value in pairs:
        count += 1
        strings += len(key) + len(value) + 2
    return 0 if count == 0 else 4 + 8 * count + strings


def decode_pairs(data: bytes | bytearray | memoryview) -> list[Pair]:
    """Parse a pairs encoding; ``PairsFormatError`` when it is malformed."""
    data = bytes(data)
    if len(data) == 0 or data == b"\0":
        return []
    if len(data) > MAX_PAIRS_BYTES:
        raise PairsFormatError(f"{len(data)} bytes are more than the {MAX_PAIRS_BYTES} a pairs map may have")
    if len(data) < 4:
        raise PairsFormatError(f"{len(data)} bytes are too short for the pair count")
    (count,) = _U32.unpack_from(data, 0)
    if count > MAX_PAIRS:
        raise PairsFormatError(f"{count} pairs are more than the {MAX_PAIRS} a pairs map may have")
    lengths_end = 4 + 8 * count
    if lengths_end > len(data):
        raise PairsFormatError(f"{count} pairs need {lengths_end} bytes of lengths, only {len(data)} given")
    lengths = [(_U32.unpack_from(data, 4 + 8 * i)[0], _U32.unpack_from(data, 8 + 8 * i)[0]) for i in range(count)]
    position = lengths_end
    pairs: list[Pair] = []
    for index, (key_length, value_length) in enumerate(lengths):
        key, position = _string(data, position, key_length, f"key of pair {index}")
        value, position = _string(data, position, value_length, f"value of pair {index}")
        pairs.append((key, value))
    return pairs


def _string(data: bytes, position: int, length: int, what: str) -> tuple[bytes, int]:
    end = position + length
    if end + 1 > len(data):
        raise PairsFormatError(f"the {what} ({length} bytes and its NUL) runs past the end ({len(data)} bytes)")
    if data[end] != 0:
        raise PairsFormatError(f"the {what} is not followed by a NUL byte")
    return data[position:end], end + 1
