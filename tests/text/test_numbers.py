"""Numeric literals: integer ranges, exact float rounding, NaN payloads."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interp.errors import TextSyntaxError
from interp.text.numbers import (
    F32_FORMAT,
    F64_FORMAT,
    NumberRangeError,
    looks_numeric,
    parse_float,
    parse_int,
    parse_nat,
    round_to_format,
)


def f64_value(bits: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def f32_value(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def is_finite(bits: int, exponent_mask: int) -> bool:
    return bits & exponent_mask != exponent_mask


# -- integers ------------------------------------------------------------------


@pytest.mark.parametrize(("text", "bits", "expected"), [
    ("0", 32, 0),
    ("+42", 32, 42),
    ("-1", 32, 0xFFFF_FFFF),
    ("4294967295", 32, 0xFFFF_FFFF),
    ("0xffff_ffff", 32, 0xFFFF_FFFF),
    ("-2147483648", 32, 0x8000_0000),
    ("-0x8000_0000", 32, 0x8000_0000),
    ("1_000_000", 32, 1_000_000),
    ("0xABCdef", 32, 0xABCDEF),
    ("18446744073709551615", 64, 2**64 - 1),
    ("-9223372036854775808", 64, 2**63),
    ("-0", 64, 0),
])
def test_integer_literals(text: str, bits: int, expected: int) -> None:
    assert parse_int(text, bits) == expected


@pytest.mark.parametrize(("text", "bits"), [
    ("4294967296", 32), ("0x1_0000_0000", 32), ("-2147483649", 32), ("-0x80000001", 32),
    ("18446744073709551616", 64), ("-9223372036854775809", 64), ("0x10000000000000000", 64),
])
def test_integers_out_of_range(text: str, bits: int) -> None:
    with pytest.raises(NumberRangeError) as info:
        parse_int(text, bits)
    assert info.value.message == "constant out of range"
    assert isinstance(info.value, TextSyntaxError)


@pytest.mark.parametrize("text", [
    "", "_1", "1_", "1__0", "0x", "0x_1", "0_x1", "1x", "0xg", "--1", "+-1", "1.0", "nan", "inf", "0X10",
])
def test_not_integer_literals(text: str) -> None:
    assert parse_int(text, 32) is None


def test_natural_numbers_have_no_sign() -> None:
    assert parse_nat("0x10") == 16
    assert parse_nat("1_0") == 10
    assert parse_nat("+1") is None
    assert parse_nat("-1") is None


@given(st.integers(min_value=-(2**63), max_value=2**64 - 1))
def test_i64_round_trip(value: int) -> None:
    canonical = value & (2**64 - 1)
    assert parse_int(str(value), 64) == canonical
    sign = "-" if value < 0 else ""
    assert parse_int(f"{sign}0x{abs(value):x}", 64) == canonical


@given(st.integers(min_value=-(2**31), max_value=2**32 - 1))
def test_i32_round_trip_with_separators(value: int) -> None:
    text = f"{value:_}"
    assert parse_int(text, 32) == value & 0xFFFF_FFFF


# -- floats: special values and shapes -----------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("inf", 0x7F80_0000), ("+inf", 0x7F80_0000), ("-inf", 0xFF80_0000),
    ("nan", 0x7FC0_0000), ("-nan", 0xFFC0_0000), ("nan:0x1", 0x7F80_0001),
    ("-nan:0x7fffff", 0xFFFF_FFFF), ("nan:0x20_0000", 0x7FA0_0000),
    ("0", 0), ("-0", 0x8000_0000), ("-0.0", 0x8000_0000), ("0x0p+0", 0),
    ("1", 0x3F80_0000), ("1.", 0x3F80_0000), ("1e0", 0x3F80_0000), ("0x1", 0x3F80_0000),
    ("0x1.", 0x3F80_0000), ("0x0.8p1", 0x3F80_0000), ("0x1P+0", 0x3F80_0000), ("10E-1", 0x3F80_0000),
    ("0x1p-149", 0x0000_0001), ("0x1p-126", 0x0080_0000), ("0x1.fffffep127", 0x7F7F_FFFF),
    ("1_000.000_1", 0x447A_0002), ("0x1_0.0_0p-4", 0x3F80_0000),
])
def test_f32_literals(text: str, expected: int) -> None:
    assert parse_float(text, F32_FORMAT) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("nan", 0x7FF8_0000_0000_0000), ("-nan:0xfffffffffffff", 0xFFFF_FFFF_FFFF_FFFF),
    ("nan:0x4000000000000", 0x7FF4_0000_0000_0000), ("inf", 0x7FF0_0000_0000_0000),
    ("0x1p-1074", 1), ("0x1.fffffffffffffp1023", 0x7FEF_FFFF_FFFF_FFFF),
    ("1.7976931348623157e308", 0x7FEF_FFFF_FFFF_FFFF), ("4.9e-324", 1), ("0.1", 0x3FB9_9999_9999_999A),
])
def test_f64_literals(text: str, expected: int) -> None:
    assert parse_float(text, F64_FORMAT) == expected


@pytest.mark.parametrize("text", [
    ".0", "0x.8p1", "0.e", "1e", "1e+", "0x", "0x.", "0x1p", "0x1p+", "0x0pA", "nan:1", "nan:0x", "nan:canonical",
    "infinity", "_1.0", "1_.0", "1._0", "1.0_", "1e_1", "0x_1p1", "0x1p1_", "1.0e+_1", "++1", "1.0.0",
])
def test_not_float_literals(text: str) -> None:
    assert parse_float(text, F32_FORMAT) is None
    assert not looks_numeric(text) or parse_int(text, 64) is not None


@pytest.mark.parametrize(("text", "fmt"), [
    ("0x1p128", F32_FORMAT), ("-0x1p128", F32_FORMAT), ("1e39", F32_FORMAT),
    ("0x1.ffffffp127", F32_FORMAT), ("340282356779733661637539395458142568448", F32_FORMAT),
    ("nan:0x0", F32_FORMAT), ("nan:0x80_0000", F32_FORMAT),
    ("0x1p1024", F64_FORMAT), ("1e309", F64_FORMAT), ("0x1.fffffffffffff8p1023", F64_FORMAT),
    ("nan:0x10_0000_0000_0000", F64_FORMAT), ("1e99999999999999999999", F64_FORMAT),
    ("0x1p99999999999999999999", F32_FORMAT),
])
def test_floats_out_of_range(text: str, fmt: object) -> None:
    with pytest.raises(NumberRangeError):
        parse_float(text, fmt)  # type: ignore[arg-type]


def test_values_just_below_the_overflow_threshold_round_to_the_maximum() -> None:
    assert parse_float("0x1.fffffefffffffffffp127", F32_FORMAT) == 0x7F7F_FFFF
    assert parse_float("340282356779733661637539395458142568447", F32_FORMAT) == 0x7F7F_FFFF
    assert parse_float("0x1.fffffffffffff7ffffffp1023", F64_FORMAT) == 0x7FEF_FFFF_FFFF_FFFF


def test_tiny_values_round_to_zero_or_the_smallest_subnormal() -> None:
    assert parse_float("0x1p-150", F32_FORMAT) == 0          # tie, to even (zero)
    assert parse_float("0x1.000001p-150", F32_FORMAT) == 1   # just above the tie
    assert parse_float("0x1.8p-149", F32_FORMAT) == 2        # tie between 1 and 2: even
    assert parse_float("-1e-99999999999", F64_FORMAT) == 0x8000_0000_0000_0000
    assert parse_float("0x1p-99999999999", F32_FORMAT) == 0


# -- floats: correct rounding ----------------------------------------------------


def test_f32_rounds_once_from_the_exact_value_not_through_double() -> None:
    # 1 + 2**-24 is the midpoint between 1 and the next f32; this literal lies
    # just above it, but its nearest double *is* the midpoint, from which a
    # second rounding (ties to even) would wrongly go down to 1.
    assert parse_float("1.00000005960464477539062500000000001", F32_FORMAT) == 0x3F80_0001
    assert parse_float("0x1.000001000000000000001p0", F32_FORMAT) == 0x3F80_0001
    assert parse_float("1.000000059604644775390625", F32_FORMAT) == 0x3F80_0000  # exact tie: even
    assert parse_float("1.000000178813934326171875", F32_FORMAT) == 0x3F80_0002  # exact tie: even


def test_rounding_of_long_decimal_literals() -> None:
    # const.wast style: many digits deciding the last bit.
    assert parse_float("+8.3886075e+06", F32_FORMAT) == parse_float("0x1.fffffep+22", F32_FORMAT)
    assert parse_float("8388608.5", F32_FORMAT) == 0x4B00_0000  # tie: even
    assert parse_float("8388609.5", F32_FORMAT) == 0x4B00_0002  # tie: even
    assert parse_float("1.00000000000000011102230246251565404236316680908203125", F64_FORMAT) == 0x3FF0_0000_0000_0000
    assert parse_float("1.00000000000000011102230246251565404236316680908203126", F64_FORMAT) == 0x3FF0_0000_0000_0001


def test_round_to_format_directly() -> None:
    assert round_to_format(1, 3, F64_FORMAT) == 0x3FD5_5555_5555_5555
    assert round_to_format(2**128, 1, F32_FORMAT) is None
    assert round_to_format(0, 1, F32_FORMAT) == 0


finite_f64_bits = st.integers(0, 2**64 - 1).filter(lambda b: is_finite(b, 0x7FF0_0000_0000_0000))
finite_f32_bits = st.integers(0, 2**32 - 1).filter(lambda b: is_finite(b, 0x7F80_0000))


@settings(max_examples=500)
@given(finite_f64_bits)
def test_f64_bits_survive_decimal_and_hex_printing(bits: int) -> None:
    value = f64_value(bits)
    assert parse_float(repr(value), F64_FORMAT) == bits
    assert parse_float(value.hex(), F64_FORMAT) == bits


@settings(max_examples=500)
@given(finite_f32_bits)
def test_f32_bits_survive_decimal_and_hex_printing(bits: int) -> None:
    value = f32_value(bits)  # exact in a double
    assert parse_float(value.hex(), F32_FORMAT) == bits
    assert parse_float(f"{value:.9g}", F32_FORMAT) == bits  # 9 digits identify an f32
    assert parse_float(repr(value), F32_FORMAT) == bits


@given(st.integers(1, 2**52 - 1), st.booleans())
def test_nan_payloads_are_kept(payload: int, negative: bool) -> None:
    sign = "-" if negative else ""
    bits = parse_float(f"{sign}nan:0x{payload:x}", F64_FORMAT)
    assert bits == (negative << 63) | 0x7FF0_0000_0000_0000 | payload


@given(st.fractions(min_value=0, max_value=2**20).filter(lambda f: f > 0))
def test_f64_rounding_agrees_with_python_for_rationals(value) -> None:  # type: ignore[no-untyped-def]
    # Python's int/int true division is correctly rounded to double.
    expected = struct.unpack("<Q", struct.pack("<d", value.numerator / value.denominator))[0]
    assert round_to_format(value.numerator, value.denominator, F64_FORMAT) == expected


def test_literals_longer_than_cpythons_conversion_limit() -> None:
    # CPython converts at most 4300 decimal digits at once; literals may be longer.
    with pytest.raises(NumberRangeError):
        parse_int("1" * 5000, 64)
    assert parse_int("0" * 5000 + "7", 32) == 7
    assert parse_nat("0" * 5000 + "7") == 7
    assert parse_float("1" + "0" * 5000 + "e-5000", F64_FORMAT) == 0x3FF0_0000_0000_0000
    assert parse_float("0." + "0" * 5000 + "1e5001", F32_FORMAT) == 0x3F80_0000
    with pytest.raises(NumberRangeError):
        parse_float("1e" + "9" * 5000, F64_FORMAT)
    assert parse_float("1e-" + "9" * 5000, F64_FORMAT) == 0


@given(st.text(alphabet="0123456789abcdefxp.+-_enainf:P E", max_size=30))
def test_any_text_is_a_literal_or_not_but_never_crashes(text: str) -> None:
    for fmt in (F32_FORMAT, F64_FORMAT):
        try:
            bits = parse_float(text, fmt)
        except NumberRangeError:
            continue
        assert bits is None or 0 <= bits < 1 << (1 + fmt.exponent_bits + fmt.mantissa_bits)
    try:
        value = parse_int(text, 32)
    except NumberRangeError:
        return
    assert value is None or 0 <= value < 2**32
