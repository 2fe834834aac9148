"""LEB128 decoding and the rest of ByteReader, against the spec's rules."""

from __future__ import annotations

import leb128
import pytest
from hypothesis import given
from hypothesis import strategies as st

from interp.binary.reader import (
    TOO_LARGE,
    TOO_LONG,
    UNEXPECTED_END,
    ByteReader,
    decode_length,
    decode_signed,
    decode_unsigned,
)
from interp.errors import MalformedError


def spec_unsigned(data: bytes, bits: int) -> int | str:
    """The spec's uN decoding written out plainly: the value, or the error."""
    value = 0
    remaining = bits
    for index, byte in enumerate(data):
        if remaining <= 0:
            return TOO_LONG
        if remaining < 7 and (byte & 0x7F) >= 1 << remaining:
            return TOO_LARGE
        value |= (byte & 0x7F) << (7 * index)
        if byte < 0x80:
            return value
        remaining -= 7
    return TOO_LONG if remaining <= 0 else UNEXPECTED_END


def spec_signed(data: bytes, bits: int) -> int | str:
    value = 0
    remaining = bits
    for index, byte in enumerate(data):
        if remaining <= 0:
            return TOO_LONG
        if remaining < 7:
            sign_and_unused = (byte & 0x7F) >> (remaining - 1)
            if sign_and_unused not in (0, (1 << (8 - remaining)) - 1):
                return TOO_LARGE
        value |= (byte & 0x7F) << (7 * index)
        if byte < 0x80:
            width = 7 * (index + 1)
            if value >= 1 << (width - 1):
                value -= 1 << width
            return value
        remaining -= 7
    return TOO_LONG if remaining <= 0 else UNEXPECTED_END


def outcome(decode, data: bytes, bits: int) -> int | str:
    try:
        value, end = decode(data, 0, bits)
    except MalformedError as error:
        return error.message
    return value


@pytest.mark.parametrize("encoded, bits, expected", [
    (b"\x00", 32, 0),
    (b"\x7f", 32, 127),
    (b"\x80\x01", 32, 128),
    (b"\xff\xff\xff\xff\x0f", 32, 0xFFFF_FFFF),
    (b"\x80\x80\x80\x80\x00", 32, 0),
    (b"\xff\xff\xff\xff\x1f", 32, TOO_LARGE),
    (b"\xff\xff\xff\xff\x4f", 32, TOO_LARGE),
    (b"\x80\x80\x80\x80\x80\x00", 32, TOO_LONG),
    (b"\x80\x80\x80\x80\x80", 32, TOO_LONG),
    (b"\x80\x80", 32, UNEXPECTED_END),
    (b"", 32, UNEXPECTED_END),
    (b"\x01", 1, 1),
    (b"\x02", 1, TOO_LARGE),
    (b"\x81\x00", 1, TOO_LONG),
    (b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 64, 0xFFFF_FFFF_FFFF_FFFF),
    (b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 64, TOO_LARGE),
    (b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 64, TOO_LONG),
])
def test_unsigned_cases(encoded: bytes, bits: int, expected: int | str) -> None:
    assert outcome(decode_unsigned, encoded, bits) == expected


@pytest.mark.parametrize("encoded, bits, expected", [
    (b"\x00", 32, 0),
    (b"\x3f", 32, 63),
    (b"\x40", 32, -64),
    (b"\x7f", 32, -1),
    (b"\x80\x7f", 32, -128),
    (b"\xff\xff\xff\xff\x07", 32, 0x7FFF_FFFF),
    (b"\x80\x80\x80\x80\x78", 32, -0x8000_0000),
    (b"\xff\xff\xff\xff\x7f", 32, -1),
    (b"\xff\xff\xff\xff\x0f", 32, TOO_LARGE),
    (b"\x80\x80\x80\x80\x70", 32, TOO_LARGE),
    (b"\xff\xff\xff\xff\xff\x7f", 32, TOO_LONG),
    (b"\xff\xff\xff\xff\x0f", 33, 0xFFFF_FFFF),
    (b"\xff\xff\xff\xff\x1f", 33, TOO_LARGE),
    (b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x7f", 64, -(1 << 63)),
    (b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00", 64, (1 << 63) - 1),
    (b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 64, TOO_LARGE),
    (b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x41", 64, TOO_LARGE),
    (b"\xc0", 32, UNEXPECTED_END),
])
def test_signed_cases(encoded: bytes, bits: int, expected: int | str) -> None:
    assert outcome(decode_signed, encoded, bits) == expected


@given(st.binary(min_size=0, max_size=12), st.sampled_from([1, 7, 32, 33, 64]))
def test_unsigned_agrees_with_the_spec_rules(data: bytes, bits: int) -> None:
    assert outcome(decode_unsigned, data, bits) == spec_unsigned(data, bits)


@given(st.binary(min_size=0, max_size=12), st.sampled_from([7, 32, 33, 64]))
def test_signed_agrees_with_the_spec_rules(data: bytes, bits: int) -> None:
    assert outcome(decode_signed, data, bits) == spec_signed(data, bits)


@given(st.integers(min_value=0, max_value=2**64 - 1), st.integers(min_value=0, max_value=3))
def test_unsigned_round_trips_with_padding(value: int, padding: int) -> None:
    encoded = bytearray(leb128.u.encode(value))
    for _ in range(padding):
        if len(encoded) >= 10:
            break
        encoded[-1] |= 0x80
        encoded.append(0)
    if value < 2**32 and len(encoded) <= 5:
        assert decode_unsigned(bytes(encoded) + b"\xff", 0, 32) == (value, len(encoded))
    assert decode_unsigned(bytes(encoded), 0, 64) == (value, len(encoded))


@given(st.integers(min_value=-2**63, max_value=2**63 - 1))
def test_signed_round_trips(value: int) -> None:
    encoded = bytes(leb128.i.encode(value))
    assert decode_signed(encoded, 0, 64) == (value, len(encoded))
    if -2**31 <= value < 2**31:
        assert decode_signed(encoded, 0, 32) == (value, len(encoded))


def test_decoding_starts_at_the_given_position() -> None:
    assert decode_unsigned(b"\xff\xe5\x8e\x26\x00", 1, 32) == (624485, 4)
    assert decode_signed(b"\x00\xc0\xbb\x78", 1, 32) == (-123456, 4)


def test_reader_canonical_constants() -> None:
    reader = ByteReader(b"\x7f\x7f\x80\x80\x80\x80\x78")
    assert reader.i32() == 0xFFFF_FFFF
    assert reader.i64() == 0xFFFF_FFFF_FFFF_FFFF
    assert reader.i32() == 0x8000_0000
    assert reader.at_end()


def test_reader_fixed_width_and_bytes() -> None:
    reader = ByteReader(bytes(range(1, 16)))
    assert reader.byte() == 1
    assert reader.f32_bits() == 0x05040302
    assert reader.f64_bits() == 0x0D0C0B0A09080706
    assert reader.peek() == 14
    assert reader.bytes(2) == b"\x0e\x0f"
    assert reader.peek() is None
    with pytest.raises(MalformedError) as error:
        reader.byte()
    assert error.value.message == UNEXPECTED_END
    assert error.value.offset == 15


def test_reader_eof_message_is_configurable() -> None:
    reader = ByteReader(b"\x80", eof_message="unexpected end of section or function")
    with pytest.raises(MalformedError, match="unexpected end of section or function"):
        reader.u32()


def test_names_must_be_utf8() -> None:
    assert ByteReader(b"\x03\xe2\x8c\xa3").name() == "\u2323"
    for bad in (b"\x01\x80", b"\x02\xc0\x80", b"\x03\xed\xa0\x80", b"\x04\xf4\x90\x80\x80"):
        with pytest.raises(MalformedError) as error:
            ByteReader(bad).name()
        assert error.value.message == "malformed UTF-8 encoding"


def test_lengths_beyond_the_data_are_out_of_bounds() -> None:
    assert decode_length(b"\x03abc", 0) == (3, 1)
    with pytest.raises(MalformedError) as error:
        decode_length(b"\x05abc", 0)
    assert error.value.message == "length out of bounds"
    with pytest.raises(MalformedError, match="length out of bounds"):
        ByteReader(b"\xff\xff\xff\xff\x0f").length()


def test_reads_past_the_end_never_raise_anything_else() -> None:
    reader = ByteReader(b"")
    for read in (reader.byte, reader.u32, reader.s33, reader.u64, reader.f32_bits,
                 reader.f64_bits, reader.name, reader.length, lambda: reader.bytes(1),
                 lambda: reader.skip(1), lambda: reader.bytes(-1)):
        with pytest.raises(MalformedError):
            read()
