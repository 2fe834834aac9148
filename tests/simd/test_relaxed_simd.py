"""Relaxed SIMD: each instruction's one documented result among those the
spec allows (the reference interpreter's), identical on both engines, and
the fused multiply-add it rests on, against exact arithmetic."""

from __future__ import annotations

import math
import struct
from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from interp.exec.engines import available_engines
from interp.exec.numerics import BINARY32, BINARY64, fused_multiply_add
from interp.exec.store import EngineConfig, Store
from interp.syntax.values import f32_round
from interp.text import parse_module
from tests.simd.lanes_reference import lanes_of, vector_of

MODULE = """
(module
  (func (export "swizzle") (param v128 v128) (result v128) (i8x16.relaxed_swizzle (local.get 0) (local.get 1)))
  (func (export "trunc_s") (param v128) (result v128) (i32x4.relaxed_trunc_f32x4_s (local.get 0)))
  (func (export "trunc_u_zero") (param v128) (result v128) (i32x4.relaxed_trunc_f64x2_u_zero (local.get 0)))
  (func (export "madd32") (param v128 v128 v128) (result v128)
    (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "nmadd64") (param v128 v128 v128) (result v128)
    (f64x2.relaxed_nmadd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "laneselect") (param v128 v128 v128) (result v128)
    (i16x8.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "min") (param v128 v128) (result v128) (f32x4.relaxed_min (local.get 0) (local.get 1)))
  (func (export "q15") (param v128 v128) (result v128) (i16x8.relaxed_q15mulr_s (local.get 0) (local.get 1)))
  (func (export "dot") (param v128 v128) (result v128) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get 0) (local.get 1)))
  (func (export "dot_add") (param v128 v128 v128) (result v128)
    (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get 0) (local.get 1) (local.get 2)))
)
"""


def f32x4(*values: float) -> int:
    return int.from_bytes(struct.pack("<4f", *values), "little")


def f64x2(*values: float) -> int:
    return int.from_bytes(struct.pack("<2d", *values), "little")


@pytest.fixture(params=available_engines())
def relaxed(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return Store(EngineConfig(engine=request.param)).instantiate(parse_module(MODULE))


def test_swizzle_gives_zero_for_every_index_from_16(relaxed) -> None:  # type: ignore[no-untyped-def]
    source = vector_of(list(range(100, 116)), 8)
    (result,) = relaxed.invoke("swizzle", source, vector_of([0, 15, 16, 0x80, 0xFF, 3] + [1] * 10, 8))
    assert lanes_of(result, 8)[:6] == [100, 115, 0, 0, 0, 103]


def test_truncations_saturate_and_give_zero_for_nan(relaxed) -> None:  # type: ignore[no-untyped-def]
    (result,) = relaxed.invoke("trunc_s", f32x4(math.nan, 3e9, -3e9, -1.5))
    assert lanes_of(result, 32, signed=True) == [0, 2**31 - 1, -2**31, -1]
    (result,) = relaxed.invoke("trunc_u_zero", f64x2(-1.0, 5e9))
    assert lanes_of(result, 32) == [0, 2**32 - 1, 0, 0]


def test_multiply_adds_are_fused(relaxed) -> None:  # type: ignore[no-untyped-def]
    """One rounding: (1 + 2^-22)(1 + 2^-15) - (1 + 2^-15 + 2^-22) is 2^-37,
    where rounding the product first gives 0."""
    x, y, z = 1 + 2**-22, 1 + 2**-15, -(1 + 2**-15 + 2**-22)
    (result,) = relaxed.invoke("madd32", f32x4(x, x, x, 3.0), f32x4(y, y, y, 2.0), f32x4(z, z, z, 0.5))
    assert struct.unpack("<4f", result.to_bytes(16, "little")) == (2**-37, 2**-37, 2**-37, 6.5)
    huge = 1.7976931348623157e308
    (result,) = relaxed.invoke("nmadd64", f64x2(-huge, 1.0), f64x2(2.0, 1.0), f64x2(-huge, 1.0))
    assert struct.unpack("<2d", result.to_bytes(16, "little")) == (huge, 0.0)


def test_laneselect_selects_every_bit(relaxed) -> None:  # type: ignore[no-untyped-def]
    (result,) = relaxed.invoke("laneselect", 0x1234, 0xABCD, 0x0FF0)
    assert result == (0x1234 & 0x0FF0) | (0xABCD & ~0x0FF0 & (2**128 - 1))


def test_min_propagates_nan_and_orders_zeros(relaxed) -> None:  # type: ignore[no-untyped-def]
    (result,) = relaxed.invoke("min", f32x4(math.nan, 0.0, -0.0, 1.0), f32x4(1.0, -0.0, 0.0, 2.0))
    lanes = struct.unpack("<4f", result.to_bytes(16, "little"))
    assert math.isnan(lanes[0]) and [math.copysign(1, lane) for lane in lanes[1:3]] == [-1, -1] and lanes[3] == 1.0


def test_q15_multiply_saturates(relaxed) -> None:  # type: ignore[no-untyped-def]
    (result,) = relaxed.invoke("q15", vector_of([-0x8000, 0x4000] + [0] * 6, 16),
                               vector_of([-0x8000, 0x4000] + [0] * 6, 16))
    assert lanes_of(result, 16, signed=True)[:2] == [0x7FFF, 0x2000]


def test_dot_products_take_both_operands_signed(relaxed) -> None:  # type: ignore[no-untyped-def]
    (result,) = relaxed.invoke("dot", vector_of([-128, -128] + [0] * 14, 8), vector_of([-127, -127] + [0] * 14, 8))
    assert lanes_of(result, 16, signed=True)[0] == 32512
    (result,) = relaxed.invoke("dot", vector_of([-128, -128] + [0] * 14, 8), vector_of([-128, -128] + [0] * 14, 8))
    assert lanes_of(result, 16, signed=True)[0] == -32768  # 32768 wraps
    (result,) = relaxed.invoke("dot_add", vector_of([-128] * 4 + [0] * 12, 8), vector_of([-127] * 4 + [0] * 12, 8),
                               vector_of([1, 2, 3, 4], 32))
    assert lanes_of(result, 32, signed=True) == [65025, 2, 3, 4]


# --- the fused multiply-add -------------------------------------------------------------------

finite64 = st.floats(allow_nan=False, allow_infinity=False)
finite32 = st.floats(allow_nan=False, allow_infinity=False, width=32)


@given(finite64, finite64, finite64)
def test_f64_fma_is_the_exact_value_rounded_once(a: float, b: float, c: float) -> None:
    """Against CPython's correctly rounded int/int division (an independent
    rounding): the exact rational result, rounded to a double."""
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    result = fused_multiply_add(a, b, c, BINARY64)
    if exact == 0:
        assert result == 0.0
        return
    try:
        expected = exact.numerator / exact.denominator
    except OverflowError:
        expected = math.inf if exact > 0 else -math.inf
    assert result == expected


@given(finite32, finite32)
def test_f32_fma_of_an_exact_product_is_one_f32_rounding(a: float, b: float) -> None:
    """The product of two f32s is exact in a double, so with c = 0 the fused
    result is that product rounded once to f32."""
    assert fused_multiply_add(a, b, 0.0, BINARY32) == f32_round(a * b)


@pytest.mark.parametrize("a, b, c, expected", [
    (math.inf, 0.0, 1.0, "nan"),
    (math.inf, 1.0, -math.inf, "nan"),
    (math.inf, -2.0, 1.0, -math.inf),
    (1.0, 1.0, math.inf, math.inf),
    (-0.0, 1.0, -0.0, -0.0),
    (1.0, 1.0, -1.0, 0.0),
    (5e-324, 0.5, 0.0, 0.0),  # a tie below the smallest subnormal: to even, zero
])
def test_fma_special_values(a: float, b: float, c: float, expected: float | str) -> None:
    result = fused_multiply_add(a, b, c, BINARY64)
    if expected == "nan":
        assert math.isnan(result)
    else:
        assert result == expected and math.copysign(1, result) == math.copysign(1, expected)  # type: ignore[arg-type]


def test_a_nan_operand_comes_out_quiet() -> None:
    signalling = struct.unpack("<d", struct.pack("<Q", 0x7FF0_0000_0000_0001))[0]
    bits = struct.unpack("<Q", struct.pack("<d", fused_multiply_add(1.0, signalling, 0.0, BINARY64)))[0]
    assert bits == 0x7FF8_0000_0000_0001
