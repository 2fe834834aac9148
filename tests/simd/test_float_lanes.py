"""The float vector instructions: every lane is the scalar ``f32`` / ``f64``
instruction of the same name (which the scalar tests check against IEEE 754),
bit for bit, NaN payloads included; the NaN rules hold lane by lane; the
pseudo-minimum and -maximum return an operand unchanged; conversions between
integer and float lanes follow their scalar definitions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings, strategies as st

from interp.exec import f32x4, f64x2, i32x4
from interp.exec.python_semantics import functions
from interp.syntax.values import f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits
from tests.simd.lanes_reference import (
    canonical_nan_magnitude,
    float_vector,
    integer_vector,
    is_nan_bits,
    lanes_of,
    quiet_bit,
    vector_of,
)

f32, f64 = functions("f32"), functions("f64")
FAST = settings(max_examples=40, deadline=None)
SCALAR = {32: f32, 64: f64}
VECTOR = {32: f32x4, 64: f64x2}
FROM_BITS = {32: f32_from_bits, 64: f64_from_bits}
TO_BITS = {32: f32_to_bits, 64: f64_to_bits}
WIDTHS = [32, 64]
WIDTH_IDS = ["f32x4", "f64x2"]


def scalar_lanes(vector: int, bits: int) -> list[float]:
    return [FROM_BITS[bits](lane) for lane in lanes_of(vector, bits)]


def bits_of(values: list[float], bits: int) -> int:
    return vector_of([TO_BITS[bits](value) for value in values], bits)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "min", "max"])
@pytest.mark.parametrize("bits", WIDTHS, ids=WIDTH_IDS)
@FAST
@given(data=st.data())
def test_binary_lanes_are_the_scalar_instruction(bits: int, name: str, data: st.DataObject) -> None:
    a, b = data.draw(float_vector(bits)), data.draw(float_vector(bits))
    scalar = getattr(SCALAR[bits], name)
    expected = [scalar(x, y) for x, y in zip(scalar_lanes(a, bits), scalar_lanes(b, bits))]
    assert getattr(VECTOR[bits], name)(a, b) == bits_of(expected, bits)


@pytest.mark.parametrize("name", ["abs", "neg", "sqrt", "ceil", "floor", "trunc", "nearest"])
@pytest.mark.parametrize("bits", WIDTHS, ids=WIDTH_IDS)
@FAST
@given(data=st.data())
def test_unary_lanes_are_the_scalar_instruction(bits: int, name: str, data: st.DataObject) -> None:
    a = data.draw(float_vector(bits))
    scalar = getattr(SCALAR[bits], name)
    assert getattr(VECTOR[bits], name)(a) == bits_of([scalar(x) for x in scalar_lanes(a, bits)], bits)


@pytest.mark.parametrize("bits", WIDTHS, ids=WIDTH_IDS)
@FAST
@given(data=st.data())
def test_nan_rules_per_lane(bits: int, data: st.DataObject) -> None:
    """A lane with a NaN operand gives an arithmetic (quiet) NaN; a NaN made
    from non-NaN lanes is the canonical NaN; lanes do not affect each other."""
    a, b = data.draw(float_vector(bits)), data.draw(float_vector(bits))
    vector = VECTOR[bits]
    quiet, canonical = quiet_bit(bits), canonical_nan_magnitude(bits)
    magnitude = (1 << (bits - 1)) - 1
    for name in ("add", "sub", "mul", "div", "min", "max"):
        result = lanes_of(getattr(vector, name)(a, b), bits)
        for x, y, lane in zip(lanes_of(a, bits), lanes_of(b, bits), result):
            if is_nan_bits(x, bits) or is_nan_bits(y, bits):
                assert is_nan_bits(lane, bits) and lane & quiet, (name, hex(x), hex(y), hex(lane))
            elif is_nan_bits(lane, bits):
                assert lane & magnitude == canonical, (name, hex(x), hex(y), hex(lane))


@pytest.mark.parametrize("bits", WIDTHS, ids=WIDTH_IDS)
def test_invalid_operations_give_canonical_nans(bits: int) -> None:
    a = b = vector_of([TO_BITS[bits](math.inf), 0] * (64 // bits), bits)
    canonical = canonical_nan_magnitude(bits)
    magnitude = (1 << (bits - 1)) - 1
    for lane in lanes_of(VECTOR[bits].sub(a, b), bits)[0::2]:  # inf - inf
        assert lane & magnitude == canonical
    for lane in lanes_of(VECTOR[bits].div(a, b), bits)[1::2]:  # 0 / 0
        assert lane & magnitude == canonical


@pytest.mark.parametrize("bits", WIDTHS, ids=WIDTH_IDS)
@FAST
@given(data=st.data())
def test_pseudo_min_max_return_an_operand_bit_for_bit(bits: int, data: st.DataObject) -> None:
    a, b = data.draw(float_vector(bits)), data.draw(float_vector(bits))
    pairs = list(zip(lanes_of(a, bits), lanes_of(b, bits)))
    from_bits = FROM_BITS[bits]
    expected_min = [y if from_bits(y) < from_bits(x) else x for x, y in pairs]
    expected_max = [y if from_bits(x) < from_bits(y) else x for x, y in pairs]
    assert VECTOR[bits].pmin(a, b) == vector_of(expected_min, bits)
    assert VECTOR[bits].pmax(a, b) == vector_of(expected_max, bits)


@pytest.mark.parametrize("bits", WIDTHS, ids=WIDTH_IDS)
@FAST
@given(data=st.data())
def test_comparisons_give_all_ones_lanes(bits: int, data: st.DataObject) -> None:
    a, b = data.draw(float_vector(bits)), data.draw(float_vector(bits))
    ones = (1 << bits) - 1
    x_lanes, y_lanes = scalar_lanes(a, bits), scalar_lanes(b, bits)
    for name, predicate in (("eq", lambda x, y: x == y), ("ne", lambda x, y: x != y), ("lt", lambda x, y: x < y),
                            ("gt", lambda x, y: x > y), ("le", lambda x, y: x <= y), ("ge", lambda x, y: x >= y)):
        expected = [ones if predicate(x, y) else 0 for x, y in zip(x_lanes, y_lanes)]
        assert getattr(VECTOR[bits], name)(a, b) == vector_of(expected, bits), name


@pytest.mark.parametrize("bits", WIDTHS, ids=WIDTH_IDS)
@FAST
@given(data=st.data(), lane=st.integers(0, 3))
def test_lane_access_keeps_nan_payloads(bits: int, data: st.DataObject, lane: int) -> None:
    """Splat, extract and replace move bits: a signalling NaN stays signalling."""
    a = data.draw(float_vector(bits))
    lane %= 128 // bits
    for pattern in (0x7FA0_0001, 0xFF81_2345) if bits == 32 else (0x7FF4_0000_0000_0001, 0xFFF0_0000_0000_1234):
        value = FROM_BITS[bits](pattern)
        vector = VECTOR[bits]
        assert vector.splat(value) == vector_of([pattern] * (128 // bits), bits)
        replaced = vector.replace_lane(a, value, lane)
        assert lanes_of(replaced, bits)[lane] == pattern
        assert TO_BITS[bits](vector.extract_lane(replaced, lane)) == pattern
        others = [position for position in range(128 // bits) if position != lane]
        assert [lanes_of(replaced, bits)[p] for p in others] == [lanes_of(a, bits)[p] for p in others]


# -- conversions --------------------------------------------------------------------------------

def _saturating_truncation(x: float, signed: bool) -> int:
    if x != x:
        return 0
    low, high = (-(1 << 31), (1 << 31) - 1) if signed else (0, (1 << 32) - 1)
    if x in (math.inf, -math.inf):
        return low if x < 0 else high
    return max(low, min(high, math.trunc(x)))


@pytest.mark.parametrize("signed", [True, False], ids=["s", "u"])
@FAST
@given(single=float_vector(32), double=float_vector(64))
def test_saturating_truncations(signed: bool, single: int, double: int) -> None:
    suffix = "s" if signed else "u"
    expected = [_saturating_truncation(x, signed) for x in scalar_lanes(single, 32)]
    assert getattr(i32x4, f"trunc_sat_f32x4_{suffix}")(single) == vector_of(expected, 32)
    expected = [_saturating_truncation(x, signed) for x in scalar_lanes(double, 64)] + [0, 0]
    assert getattr(i32x4, f"trunc_sat_f64x2_{suffix}_zero")(double) == vector_of(expected, 32)


@FAST
@given(a=integer_vector(32))
def test_integer_to_float_conversions(a: int) -> None:
    unsigned = lanes_of(a, 32)
    signed = lanes_of(a, 32, signed=True)
    assert f32x4.convert_i32x4_s(a) == bits_of([f32.convert_i64_s(x & (2**64 - 1)) for x in signed], 32)
    assert f32x4.convert_i32x4_u(a) == bits_of([f32.convert_i64_u(x) for x in unsigned], 32)
    assert f64x2.convert_low_i32x4_s(a) == bits_of([float(x) for x in signed[:2]], 64)
    assert f64x2.convert_low_i32x4_u(a) == bits_of([float(x) for x in unsigned[:2]], 64)


@FAST
@given(single=float_vector(32), double=float_vector(64))
def test_demote_and_promote(single: int, double: int) -> None:
    demoted = lanes_of(f32x4.demote_f64x2_zero(double), 32)
    assert demoted[2:] == [0, 0]
    assert demoted[:2] == [f32_to_bits(f32.demote_f64(x)) for x in scalar_lanes(double, 64)]
    assert f64x2.promote_low_f32x4(single) == bits_of([f64.promote_f32(x) for x in scalar_lanes(single, 32)[:2]], 64)


def test_demote_rounds_to_nearest_even_and_quietens_nans() -> None:
    halfway = f64_to_bits(1.0 + 2.0 ** -24)  # exactly between two f32s: rounds to even (1.0)
    signalling = 0x7FF4_0000_0000_0000
    result = lanes_of(f32x4.demote_f64x2_zero(vector_of([halfway, signalling], 64)), 32)
    assert result[0] == 0x3F80_0000
    assert is_nan_bits(result[1], 32) and result[1] & quiet_bit(32)
