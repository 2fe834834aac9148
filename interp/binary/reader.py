"""A bounds-checked cursor over a WebAssembly binary, and the LEB128 rules.

The WebAssembly spec limits LEB128 integers (spec 5.2.2): an ``N``-bit
integer may take at most ``ceil(N / 7)`` bytes ("integer representation too
long"), and the bits of the last byte beyond ``N`` must be zero for unsigned
and a copy of the sign bit for signed integers ("integer too large").
:func:`decode_unsigned` and :func:`decode_signed` check exactly those rules,
in the order the reference interpreter checks them byte by byte, adding up
the value as they go.

The module decoder's hot loop calls these two functions directly on
``(data, pos)`` pairs; everything else goes through :class:`ByteReader`.
"""

from __future__ import annotations

from interp.errors import MalformedError

UNEXPECTED_END = "unexpected end"
UNEXPECTED_END_OF_SECTION = "unexpected end of section or function"
"""The reference interpreter's wording for any read past the end of a module;
``UNEXPECTED_END`` is its prefix, which the testsuite's header tests expect."""

TOO_LONG = "integer representation too long"
TOO_LARGE = "integer too large"
LENGTH_OUT_OF_BOUNDS = "length out of bounds"
MALFORMED_UTF8 = "malformed UTF-8 encoding"

_SIGN_MASKS = tuple((-1 << (bits - 1)) & 0x7F if bits > 0 else 0 for bits in range(7))
"""For a last byte that may carry only ``bits`` more bits of a signed integer,
the payload bits that must all equal the sign bit."""



def decode_unsigned(data: bytes, pos: int, bits: int,
                    eof_message: str = UNEXPECTED_END) -> tuple[int, int]:
    """Decode an unsigned LEB128 integer of at most ``bits`` bits starting at
    ``data[pos]``; return ``(value, position after it)``."""
    end = len(data)
    if pos >= end:
        raise MalformedError(eof_message, end)
    first = data[pos]
    if first < 0x80 and bits >= 7:
        return first, pos + 1
    remaining = bits
    value = 0
    shift = 0
    while True:
        if remaining <= 0:
            raise MalformedError(TOO_LONG, pos)
        if pos >= end:
            raise MalformedError(eof_message, end)
        byte = data[pos]
        pos += 1
        if remaining < 7 and (byte & 0x7F) >> remaining:
            raise MalformedError(TOO_LARGE, pos - 1)
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        remaining -= 7


def decode_signed(data: bytes, pos: int, bits: int,
                  eof_message: str = UNEXPECTED_END) -> tuple[int, int]:
    """Decode a signed LEB128 integer of at most ``bits`` bits starting at
    ``data[pos]``; return ``(value as a negative or positive int, position after it)``."""
    end = len(data)
    if pos >= end:
        raise MalformedError(eof_message, end)
    first = data[pos]
    if first < 0x80 and bits >= 7:
        return (first - 0x80 if first & 0x40 else first), pos + 1
    remaining = bits
    value = 0
    shift = 0
    while True:
        if remaining <= 0:
            raise MalformedError(TOO_LONG, pos)
        if pos >= end:
            raise MalformedError(eof_message, end)
        byte = data[pos]
        pos += 1
        if remaining < 7:
            mask = _SIGN_MASKS[remaining]
            sign_bits = byte & mask
            if sign_bits != 0 and sign_bits != mask:
                raise MalformedError(TOO_LARGE, pos - 1)
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return (value - (1 << shift) if byte & 0x40 else value), pos
        remaining -= 7


def decode_length(data: bytes, pos: int, eof_message: str = UNEXPECTED_END) -> tuple[int, int]:
    """Decode a u32 that counts the bytes or items that follow.

    Like the reference interpreter, a length larger than what is left of the
    module (counted from the length's own first byte) is "length out of
    bounds".  Every item of a vector takes at least one byte, so this also
    keeps a forged count from making the decoder loop or allocate for
    billions of entries."""
    value, after = decode_unsigned(data, pos, 32, eof_message)
    if value > len(data) - pos:
        raise MalformedError(LENGTH_OUT_OF_BOUNDS, pos)
    return value, after


class ByteReader:
    """A cursor over ``data`` that raises :class:`MalformedError` instead of
    reading past the end.

    ``eof_message`` is what a read past the end reports; the module decoder
    uses the reference interpreter's "unexpected end of section or function".
    """

    __slots__ = ("data", "pos", "eof_message")

    def __init__(self, data: bytes, pos: int = 0, eof_message: str = UNEXPECTED_END) -> None:
        self.data = data
        self.pos = pos
        self.eof_message = eof_message

    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    def remaining(self) -> int:
        return max(0, len(self.data) - self.pos)

    def peek(self) -> int | None:
        """The next byte without consuming it, ``None`` at the end."""
        pos = self.pos
        return self.data[pos] if pos < len(self.data) else None

    def byte(self) -> int:
        pos = self.pos
        if pos >= len(self.data):
            raise MalformedError(self.eof_message, len(self.data))
        self.pos = pos + 1
        return self.data[pos]

    def bytes(self, count: int) -> bytes:
        pos = self.pos
        end = pos + count
        if count < 0 or end > len(self.data):
            raise MalformedError(self.eof_message, len(self.data))
        self.pos = end
        return self.data[pos:end]

    def skip(self, count: int) -> None:
        if count < 0 or self.pos + count > len(self.data):
            raise MalformedError(self.eof_message, len(self.data))
        self.pos += count

    def _unsigned(self, bits: int) -> int:
        value, self.pos = decode_unsigned(self.data, self.pos, bits, self.eof_message)
        return value

    def _signed(self, bits: int) -> int:
        value, self.pos = decode_signed(self.data, self.pos, bits, self.eof_message)
        return value

    def u1(self) -> int:
        """A one-bit flag in LEB128 form (limits flags, spec 5.3.7)."""
        return self._unsigned(1)

    def u32(self) -> int:
        return self._unsigned(32)

    def u64(self) -> int:
        return self._unsigned(64)

    def s32(self) -> int:
        return self._signed(32)

    def s33(self) -> int:
        return self._signed(33)

    def s64(self) -> int:
        return self._signed(64)

    def i32(self) -> int:
        """An ``i32`` constant: s32 LEB128 in canonical unsigned form."""
        return self._signed(32) & 0xFFFF_FFFF

    def i64(self) -> int:
        """An ``i64`` constant: s64 LEB128 in canonical unsigned form."""
        return self._signed(64) & 0xFFFF_FFFF_FFFF_FFFF

    def f32_bits(self) -> int:
        return int.from_bytes(self.bytes(4), "little")

    def f64_bits(self) -> int:
        return int.from_bytes(self.bytes(8), "little")

    def length(self) -> int:
        """A vector length or byte count; see :func:`decode_length`."""
        value, self.pos = decode_length(self.data, self.pos, self.eof_message)
        return value

    def name(self) -> str:
        """A name: a byte vector that must be valid UTF-8 (spec 5.2.4)."""
        start = self.pos
        raw = self.bytes(self.length())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedError(MALFORMED_UTF8, start) from None
