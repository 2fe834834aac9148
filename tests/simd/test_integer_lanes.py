"""The integer vector instructions against their scalar definitions (spec
4.3.2 applied lane by lane, 4.3.4): for random vectors whose lanes favour the
edge values, every lane of the result is the scalar operation on the
corresponding lanes, computed here from the definition with plain integers."""

from __future__ import annotations

from typing import Callable

import pytest
from hypothesis import given, settings, strategies as st

from interp.exec import i8x16, i16x8, i32x4, i64x2, v128
from tests.simd.lanes_reference import (
    INTEGER_MODULES,
    clamp,
    integer_vector,
    lanes_of,
    signed_range,
    vector_of,
)

FAST = settings(max_examples=40, deadline=None)
MASK128 = (1 << 128) - 1


def _wrap(bits: int) -> Callable[[int], int]:
    return lambda value: value & ((1 << bits) - 1)


# name -> (shapes that have it, reads lanes signed, scalar definition(bits) -> (x, y) -> lane)
BINARY: dict[str, tuple[tuple[int, ...], bool, Callable[[int], Callable[[int, int], int]]]] = {
    "add": ((8, 16, 32, 64), False, lambda b: lambda x, y: x + y),
    "sub": ((8, 16, 32, 64), False, lambda b: lambda x, y: x - y),
    "mul": ((16, 32, 64), False, lambda b: lambda x, y: x * y),
    "add_sat_s": ((8, 16), True, lambda b: lambda x, y: clamp(x + y, *signed_range(b))),
    "add_sat_u": ((8, 16), False, lambda b: lambda x, y: clamp(x + y, 0, (1 << b) - 1)),
    "sub_sat_s": ((8, 16), True, lambda b: lambda x, y: clamp(x - y, *signed_range(b))),
    "sub_sat_u": ((8, 16), False, lambda b: lambda x, y: clamp(x - y, 0, (1 << b) - 1)),
    "min_s": ((8, 16, 32), True, lambda b: min),
    "min_u": ((8, 16, 32), False, lambda b: min),
    "max_s": ((8, 16, 32), True, lambda b: max),
    "max_u": ((8, 16, 32), False, lambda b: max),
    "avgr_u": ((8, 16), False, lambda b: lambda x, y: (x + y + 1) // 2),
    "eq": ((8, 16, 32, 64), False, lambda b: lambda x, y: -(x == y)),
    "ne": ((8, 16, 32, 64), False, lambda b: lambda x, y: -(x != y)),
    "lt_s": ((8, 16, 32, 64), True, lambda b: lambda x, y: -(x < y)),
    "lt_u": ((8, 16, 32), False, lambda b: lambda x, y: -(x < y)),
    "gt_s": ((8, 16, 32, 64), True, lambda b: lambda x, y: -(x > y)),
    "gt_u": ((8, 16, 32), False, lambda b: lambda x, y: -(x > y)),
    "le_s": ((8, 16, 32, 64), True, lambda b: lambda x, y: -(x <= y)),
    "le_u": ((8, 16, 32), False, lambda b: lambda x, y: -(x <= y)),
    "ge_s": ((8, 16, 32, 64), True, lambda b: lambda x, y: -(x >= y)),
    "ge_u": ((8, 16, 32), False, lambda b: lambda x, y: -(x >= y)),
    "q15mulr_sat_s": ((16,), True, lambda b: lambda x, y: clamp((x * y + 0x4000) >> 15, -0x8000, 0x7FFF)),
}
BINARY_CASES = [(name, bits) for name, (shapes, _, _) in BINARY.items() for bits in shapes]


@pytest.mark.parametrize("name, bits", BINARY_CASES, ids=[f"i{b}x{128 // b}.{n}" for n, b in BINARY_CASES])
@FAST
@given(data=st.data())
def test_binary_lanewise(name: str, bits: int, data: st.DataObject) -> None:
    _, signed, definition = BINARY[name]
    a, b = data.draw(integer_vector(bits)), data.draw(integer_vector(bits))
    scalar = definition(bits)
    expected = [scalar(x, y) for x, y in zip(lanes_of(a, bits, signed), lanes_of(b, bits, signed))]
    assert getattr(INTEGER_MODULES[bits], name)(a, b) == vector_of(expected, bits)


def test_comparisons_give_all_ones_lanes() -> None:
    a = vector_of([0, 5, 0x80, 0xFF] * 4, 8)
    b = vector_of([0, 6, 0x7F, 0xFF] * 4, 8)
    assert lanes_of(i8x16.eq(a, b), 8) == [0xFF, 0, 0, 0xFF] * 4
    assert lanes_of(i8x16.lt_s(a, b), 8) == [0, 0xFF, 0xFF, 0] * 4  # 0x80 is -128
    assert lanes_of(i8x16.lt_u(a, b), 8) == [0, 0xFF, 0, 0] * 4


UNARY: dict[str, tuple[tuple[int, ...], bool, Callable[[int], int]]] = {
    "neg": ((8, 16, 32, 64), False, lambda x: -x),
    "abs": ((8, 16, 32, 64), True, abs),
    "popcnt": ((8,), False, lambda x: bin(x).count("1")),
}
UNARY_CASES = [(name, bits) for name, (shapes, _, _) in UNARY.items() for bits in shapes]


@pytest.mark.parametrize("name, bits", UNARY_CASES, ids=[f"i{b}x{128 // b}.{n}" for n, b in UNARY_CASES])
@FAST
@given(data=st.data())
def test_unary_lanewise(name: str, bits: int, data: st.DataObject) -> None:
    _, signed, scalar = UNARY[name]
    a = data.draw(integer_vector(bits))
    assert getattr(INTEGER_MODULES[bits], name)(a) == vector_of([scalar(x) for x in lanes_of(a, bits, signed)], bits)


@pytest.mark.parametrize("bits", [8, 16, 32, 64])
@FAST
@given(data=st.data(), amount=st.one_of(st.integers(0, 130), st.integers(0, 2**32 - 1)))
def test_shifts_take_the_amount_modulo_the_lane_width(bits: int, data: st.DataObject, amount: int) -> None:
    module = INTEGER_MODULES[bits]
    a = data.draw(integer_vector(bits))
    k = amount % bits
    assert module.shl(a, amount) == vector_of([x << k for x in lanes_of(a, bits)], bits)
    assert module.shr_u(a, amount) == vector_of([x >> k for x in lanes_of(a, bits)], bits)
    assert module.shr_s(a, amount) == vector_of([x >> k for x in lanes_of(a, bits, signed=True)], bits)


@pytest.mark.parametrize("bits", [8, 16, 32, 64])
@FAST
@given(data=st.data())
def test_tests_and_bitmask(bits: int, data: st.DataObject) -> None:
    module = INTEGER_MODULES[bits]
    a = data.draw(integer_vector(bits))
    lanes = lanes_of(a, bits, signed=True)
    assert module.all_true(a) == (1 if all(lanes) else 0)
    assert module.bitmask(a) == sum(1 << position for position, lane in enumerate(lanes) if lane < 0)
    assert v128.any_true(a) == (1 if any(lanes) else 0)


@pytest.mark.parametrize("bits", [8, 16, 32, 64])
@FAST
@given(data=st.data(), scalar=st.integers(0, 2**64 - 1), lane=st.integers(0, 15))
def test_splat_extract_replace(bits: int, data: st.DataObject, scalar: int, lane: int) -> None:
    module = INTEGER_MODULES[bits]
    scalar &= (1 << 64) - 1 if bits == 64 else 0xFFFF_FFFF  # the i64 or i32 operand
    lane %= 128 // bits
    a = data.draw(integer_vector(bits))
    assert module.splat(scalar) == vector_of([scalar] * (128 // bits), bits)
    replaced = module.replace_lane(a, scalar, lane)
    expected_lanes = lanes_of(a, bits)
    expected_lanes[lane] = scalar & ((1 << bits) - 1)
    assert replaced == vector_of(expected_lanes, bits)
    if bits >= 32:
        assert module.extract_lane(replaced, lane) == scalar & ((1 << bits) - 1)
    else:
        assert module.extract_lane_u(a, lane) == lanes_of(a, bits)[lane]
        assert module.extract_lane_s(a, lane) == lanes_of(a, bits, signed=True)[lane] & 0xFFFF_FFFF


# -- changes of shape ---------------------------------------------------------------------------

WIDENINGS = [(8, i16x8, "i8x16"), (16, i32x4, "i16x8"), (32, i64x2, "i32x4")]


@pytest.mark.parametrize("narrow_bits, module, source", WIDENINGS, ids=[w[2] for w in WIDENINGS])
@pytest.mark.parametrize("signed", [True, False], ids=["s", "u"])
@FAST
@given(data=st.data())
def test_extend_extmul(narrow_bits: int, module, source: str, signed: bool, data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    suffix = "s" if signed else "u"
    wide = 2 * narrow_bits
    a, b = data.draw(integer_vector(narrow_bits)), data.draw(integer_vector(narrow_bits))
    la, lb = lanes_of(a, narrow_bits, signed), lanes_of(b, narrow_bits, signed)
    half = len(la) // 2
    for part, lanes_a, lanes_b in (("low", la[:half], lb[:half]), ("high", la[half:], lb[half:])):
        extend = getattr(module, f"extend_{part}_{source}_{suffix}")
        extmul = getattr(module, f"extmul_{part}_{source}_{suffix}")
        assert extend(a) == vector_of(lanes_a, wide)
        assert extmul(a, b) == vector_of([x * y for x, y in zip(lanes_a, lanes_b)], wide)


@pytest.mark.parametrize("signed", [True, False], ids=["s", "u"])
@FAST
@given(data=st.data())
def test_extadd_pairwise(signed: bool, data: st.DataObject) -> None:
    suffix = "s" if signed else "u"
    for narrow_bits, module, source in WIDENINGS[:2]:
        a = data.draw(integer_vector(narrow_bits))
        lanes = lanes_of(a, narrow_bits, signed)
        sums = [lanes[i] + lanes[i + 1] for i in range(0, len(lanes), 2)]
        assert getattr(module, f"extadd_pairwise_{source}_{suffix}")(a) == vector_of(sums, 2 * narrow_bits)


@pytest.mark.parametrize("signed", [True, False], ids=["s", "u"])
@FAST
@given(data=st.data())
def test_narrow_saturates(signed: bool, data: st.DataObject) -> None:
    suffix = "s" if signed else "u"
    for wide_bits, module, source in ((16, i8x16, "i16x8"), (32, i16x8, "i32x4")):
        narrow_bits = wide_bits // 2
        low, high = signed_range(narrow_bits) if signed else (0, (1 << narrow_bits) - 1)
        a, b = data.draw(integer_vector(wide_bits)), data.draw(integer_vector(wide_bits))
        lanes = lanes_of(a, wide_bits, signed=True) + lanes_of(b, wide_bits, signed=True)
        assert getattr(module, f"narrow_{source}_{suffix}")(a, b) == \
            vector_of([clamp(x, low, high) for x in lanes], narrow_bits)


@FAST
@given(a=integer_vector(16), b=integer_vector(16))
def test_dot_product(a: int, b: int) -> None:
    products = [x * y for x, y in zip(lanes_of(a, 16, True), lanes_of(b, 16, True))]
    assert i32x4.dot_i16x8_s(a, b) == vector_of([products[i] + products[i + 1] for i in range(0, 8, 2)], 32)


def test_dot_product_wraps_its_one_overflow() -> None:
    minimum = i16x8.splat(0x8000)
    assert i32x4.dot_i16x8_s(minimum, minimum) == i32x4.splat(0x8000_0000)


# -- whole-vector bitwise operations, swizzle and shuffle ---------------------------------------

@FAST
@given(a=st.integers(0, MASK128), b=st.integers(0, MASK128), c=st.integers(0, MASK128))
def test_bitwise(a: int, b: int, c: int) -> None:
    for position in (0, 1, 63, 64, 127):
        bit = 1 << position
        chosen = a if c & bit else b
        assert v128.bitselect(a, b, c) & bit == chosen & bit
    assert v128.not_(a) == MASK128 - a
    assert v128.andnot(a, b) == a & (MASK128 ^ b)
    assert (v128.and_(a, b), v128.or_(a, b), v128.xor(a, b)) == (a & b, a | b, a ^ b)


@FAST
@given(a=integer_vector(8), indices=st.lists(st.one_of(st.integers(0, 20), st.integers(0, 255)), min_size=16,
                                           max_size=16))
def test_swizzle(a: int, indices: list[int]) -> None:
    lanes = lanes_of(a, 8)
    expected = [lanes[i] if i < 16 else 0 for i in indices]
    assert i8x16.swizzle(a, vector_of(indices, 8)) == vector_of(expected, 8)


@FAST
@given(a=integer_vector(8), b=integer_vector(8), indices=st.lists(st.integers(0, 31), min_size=16, max_size=16))
def test_shuffle(a: int, b: int, indices: list[int]) -> None:
    both = lanes_of(a, 8) + lanes_of(b, 8)
    assert i8x16.shuffle(a, b, tuple(indices)) == vector_of([both[i] for i in indices], 8)
