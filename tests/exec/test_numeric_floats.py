"""Float instructions (the Python generated from their table semantics)
against exact definitions (spec 4.3.3): results of
inexact operations are checked to be the nearest float (ties to even) to the
exact rational result, rather than compared with another float computation;
NaN propagation and the sign-bit operations are checked bit by bit."""

from __future__ import annotations

import math
from fractions import Fraction
from types import SimpleNamespace
from typing import Callable, NamedTuple

import pytest
from hypothesis import given, strategies as st

from interp.exec.python_semantics import functions
from interp.syntax.values import f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits

f32, f64, i32, i64 = (functions(t) for t in ("f32", "f64", "i32", "i64"))


class Width(NamedTuple):
    module: SimpleNamespace
    from_bits: Callable[[int], float]
    to_bits: Callable[[float], int]
    bits: int
    frac_bits: int

    @property
    def sign(self) -> int:
        return 1 << (self.bits - 1)

    @property
    def infinity(self) -> int:
        return (self.sign - 1) ^ ((1 << self.frac_bits) - 1)

    @property
    def quiet(self) -> int:
        return 1 << (self.frac_bits - 1)

    @property
    def canonical(self) -> int:
        return self.infinity | self.quiet


F32 = Width(f32, f32_from_bits, f32_to_bits, 32, 23)
F64 = Width(f64, f64_from_bits, f64_to_bits, 64, 52)
WIDTHS = [pytest.param(F32, id="f32"), pytest.param(F64, id="f64")]


def any_bits(w: Width) -> st.SearchStrategy[int]:
    specials = [0, w.sign, w.infinity, w.infinity | w.sign, w.canonical, w.canonical | w.sign,
                w.infinity | 1, 1, w.sign | 1, w.infinity - 1, (w.infinity >> 1) & w.infinity]
    return st.one_of(st.integers(0, (1 << w.bits) - 1), st.sampled_from(specials))


def numbers(w: Width) -> st.SearchStrategy[float]:
    """Any value of the width but NaN."""
    return any_bits(w).map(w.from_bits).filter(lambda x: x == x)


def nans(w: Width) -> st.SearchStrategy[float]:
    """NaNs with any sign and payload, quiet or signalling, canonical ones often."""
    payload = st.one_of(st.integers(1, (1 << w.frac_bits) - 1), st.just(w.quiet))
    return st.tuples(st.booleans(), payload).map(
        lambda sp: w.from_bits((w.sign if sp[0] else 0) | w.infinity | sp[1]))


def is_valid(x: float, w: Width) -> bool:
    """A float is a value of the width: f32 values must sit in the f32 mapping."""
    if type(x) is not float:
        return False
    if w is F64:
        return True
    if x != x:
        return f64_to_bits(x) & ((1 << 29) - 1) == 0
    return f32_from_bits(f32_to_bits(x)) == x


def exact(x: float) -> Fraction:
    return Fraction(x)


def magnitude_value(bits: int, w: Width) -> Fraction:
    """The value of a non-negative non-NaN bit pattern; infinity counts as the
    value the next float would have, which makes overflow rounding uniform."""
    if bits == w.infinity:
        return Fraction(2) ** ((1 << (w.bits - w.frac_bits - 2)))
    return Fraction(w.from_bits(bits))


def assert_nearest(result: float, target: Fraction, w: Width) -> None:
    """``result`` is ``target`` rounded to nearest, ties to even (``target`` non-zero)."""
    assert is_valid(result, w) and result == result
    bits = w.to_bits(result)
    assert (bits & w.sign != 0) == (target < 0), "wrong sign"
    magnitude = bits & ~w.sign
    goal = abs(target)
    distance = abs(magnitude_value(magnitude, w) - goal)
    for neighbour in (magnitude - 1, magnitude + 1):
        if 0 <= neighbour <= w.infinity:
            other = abs(magnitude_value(neighbour, w) - goal)
            assert distance < other or distance == other and magnitude % 2 == 0, \
                f"{result!r} is not the nearest to {float(target)!r}"


OPERATIONS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b,
              "mul": lambda a, b: a * b, "div": lambda a, b: a / b}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
@pytest.mark.parametrize("w", WIDTHS)
@given(data=st.data())
def test_arithmetic_is_correctly_rounded(w: Width, name: str, data: st.DataObject) -> None:
    a = data.draw(numbers(w), label="a")
    b = data.draw(numbers(w), label="b")
    result = getattr(w.module, name)(a, b)
    assert is_valid(result, w)
    if math.isfinite(a) and math.isfinite(b) and not (name == "div" and b == 0):
        target = OPERATIONS[name](exact(a), exact(b))
        if target != 0:
            assert_nearest(result, target, w)
            return
    if name == "div" and b == 0:
        if a == 0:
            expected = math.nan
        else:
            expected = math.copysign(math.inf, a) * math.copysign(1.0, b)
    else:
        expected = OPERATIONS[name](a, b)  # infinities and exact zeros: no rounding involved
    if expected != expected:
        assert w.to_bits(result) & ~w.sign == w.canonical
    else:
        assert f64_to_bits(result) == f64_to_bits(expected)


@pytest.mark.parametrize("w", WIDTHS)
@given(data=st.data())
def test_sqrt_is_correctly_rounded(w: Width, data: st.DataObject) -> None:
    x = data.draw(numbers(w))
    result = w.module.sqrt(x)
    assert is_valid(result, w)
    if x < 0:
        assert w.to_bits(result) & ~w.sign == w.canonical
        return
    if x == 0 or x == math.inf:
        assert f64_to_bits(result) == f64_to_bits(x)
        return
    bits = w.to_bits(result)
    assert 0 < bits < w.infinity
    below = (magnitude_value(bits - 1, w) + Fraction(result)) / 2
    above = (magnitude_value(bits + 1, w) + Fraction(result)) / 2
    assert below * below < exact(x) < above * above


@pytest.mark.parametrize("w", WIDTHS)
@given(data=st.data())
def test_nan_operands_give_arithmetic_nans(w: Width, data: st.DataObject) -> None:
    nan = data.draw(nans(w), label="nan")
    other = data.draw(st.one_of(numbers(w), nans(w)), label="other")
    all_canonical = all(w.to_bits(x) & ~w.sign == w.canonical for x in (nan, other) if x != x)
    m = w.module
    results = [m.add(nan, other), m.add(other, nan), m.sub(nan, other), m.sub(other, nan),
               m.mul(nan, other), m.mul(other, nan), m.div(nan, other), m.div(other, nan),
               m.min(nan, other), m.min(other, nan), m.max(nan, other), m.max(other, nan),
               m.sqrt(nan), m.ceil(nan), m.floor(nan), m.trunc(nan), m.nearest(nan)]
    for result in results:
        assert is_valid(result, w)
        bits = w.to_bits(result)
        assert bits & w.canonical == w.canonical, f"not an arithmetic NaN: {bits:#x}"
        if all_canonical:
            assert bits & ~w.sign == w.canonical


@pytest.mark.parametrize("w", WIDTHS)
def test_nans_made_from_numbers_are_canonical(w: Width) -> None:
    m = w.module
    inf = math.inf
    for result in (m.div(0.0, 0.0), m.div(-0.0, 0.0), m.sub(inf, inf), m.add(-inf, inf),
                   m.mul(0.0, -inf), m.div(inf, -inf), m.sqrt(-1.0), m.sqrt(-inf),
                   m.sqrt(w.from_bits(w.sign | 1))):
        assert w.to_bits(result) & ~w.sign == w.canonical


@pytest.mark.parametrize("w", WIDTHS)
@given(data=st.data())
def test_sign_operations_are_bit_exact(w: Width, data: st.DataObject) -> None:
    a_bits = data.draw(any_bits(w), label="a")
    b_bits = data.draw(any_bits(w), label="b")
    a, b = w.from_bits(a_bits), w.from_bits(b_bits)
    assert w.to_bits(w.module.neg(a)) == a_bits ^ w.sign
    assert w.to_bits(w.module.abs(a)) == a_bits & ~w.sign
    assert w.to_bits(w.module.copysign(a, b)) == (a_bits & ~w.sign) | (b_bits & w.sign)
    assert w.to_bits(w.module.reinterpret_i32(a_bits) if w is F32 else w.module.reinterpret_i64(a_bits)) == a_bits
    assert (i32.reinterpret_f32 if w is F32 else i64.reinterpret_f64)(a) == a_bits


def sign_bit(x: float) -> bool:
    return math.copysign(1.0, x) < 0


def order_key(x: float) -> tuple[Fraction, int]:
    """Total order of non-NaN values with -0 below +0."""
    if math.isinf(x):
        return (Fraction(10**400) * (-1 if x < 0 else 1), 0)
    return (exact(x), 0 if sign_bit(x) else 1)


@pytest.mark.parametrize("w", WIDTHS)
@given(data=st.data())
def test_min_max_and_comparisons(w: Width, data: st.DataObject) -> None:
    a = data.draw(st.one_of(numbers(w), nans(w)), label="a")
    b = data.draw(st.one_of(numbers(w), nans(w)), label="b")
    m = w.module
    if a == a and b == b:
        low, high = sorted((a, b), key=order_key)
        assert f64_to_bits(m.min(a, b)) == f64_to_bits(low)
        assert f64_to_bits(m.max(a, b)) == f64_to_bits(high)
    unordered = a != a or b != b
    ka, kb = (None, None) if unordered else (order_key(a)[0], order_key(b)[0])
    assert m.eq(a, b) == (0 if unordered else int(ka == kb))
    assert m.ne(a, b) == (1 if unordered else int(ka != kb))
    assert m.lt(a, b) == (0 if unordered else int(ka < kb))
    assert m.gt(a, b) == (0 if unordered else int(ka > kb))
    assert m.le(a, b) == (0 if unordered else int(ka <= kb))
    assert m.ge(a, b) == (0 if unordered else int(ka >= kb))
    for result in (m.eq(a, b), m.lt(a, b)):
        assert type(result) is int


@pytest.mark.parametrize("w", WIDTHS)
def test_min_max_order_signed_zeros(w: Width) -> None:
    m = w.module
    for a, b in ((0.0, -0.0), (-0.0, 0.0), (-0.0, -0.0), (0.0, 0.0)):
        both_negative = sign_bit(a) and sign_bit(b)
        assert sign_bit(m.min(a, b)) == (sign_bit(a) or sign_bit(b))
        assert sign_bit(m.max(a, b)) == both_negative
    assert m.min(-math.inf, 1.0) == -math.inf and m.max(math.inf, -1.0) == math.inf


ROUNDINGS = {"ceil": math.ceil, "floor": math.floor, "trunc": math.trunc, "nearest": round}


@pytest.mark.parametrize("name", sorted(ROUNDINGS))
@pytest.mark.parametrize("w", WIDTHS)
@given(data=st.data())
def test_rounding_to_integral(w: Width, name: str, data: st.DataObject) -> None:
    x = data.draw(st.one_of(numbers(w), st.floats(-10.0, 10.0, width=32)))
    result = getattr(w.module, name)(x)
    assert is_valid(result, w)
    assert sign_bit(result) == sign_bit(x), "the sign of the operand is kept, zeros included"
    if math.isinf(x):
        assert result == x
    else:
        assert exact(result) == ROUNDINGS[name](exact(x))  # round() of a Fraction is half-even


def test_rounding_corner_cases() -> None:
    for m in (f32, f64):
        assert f64_to_bits(m.nearest(-0.4)) == f64_to_bits(-0.0)
        assert f64_to_bits(m.nearest(-0.5)) == f64_to_bits(-0.0)
        assert m.nearest(2.5) == 2.0 and m.nearest(3.5) == 4.0 and m.nearest(-1.5) == -2.0
        assert f64_to_bits(m.ceil(-0.5)) == f64_to_bits(-0.0)
        assert f64_to_bits(m.trunc(-0.9)) == f64_to_bits(-0.0)
        assert m.floor(-0.5) == -1.0
    assert f64.nearest(4503599627370497.0) == 4503599627370497.0
    assert f32.nearest(8388609.0) == 8388609.0


INTEGER_SOURCES = [("convert_i32_s", 32, True), ("convert_i32_u", 32, False),
                   ("convert_i64_s", 64, True), ("convert_i64_u", 64, False)]


def integers(bits: int) -> st.SearchStrategy[int]:
    """Including values just around float ties: a run of bits, a one, a gap, a one."""
    tie_shaped = st.tuples(st.integers(0, bits - 1), st.integers(0, bits - 1), st.integers(0, bits - 1)).map(
        lambda t: ((1 << t[0]) | (1 << t[1]) | (1 << t[2])) % (1 << bits))
    return st.one_of(st.integers(0, (1 << bits) - 1), tie_shaped,
                     tie_shaped.map(lambda v: (v - 1) % (1 << bits)))


@pytest.mark.parametrize("name,bits,is_signed", INTEGER_SOURCES)
@pytest.mark.parametrize("w", WIDTHS)
@given(data=st.data())
def test_integer_conversions_round_once(w: Width, name: str, bits: int, is_signed: bool,
                                        data: st.DataObject) -> None:
    a = data.draw(integers(bits))
    n = a - (1 << bits) if is_signed and a >> (bits - 1) else a
    result = getattr(w.module, name)(a)
    if n == 0:
        assert f64_to_bits(result) == 0
    else:
        assert_nearest(result, Fraction(n), w)


def test_i64_to_f32_double_rounding_cases() -> None:
    # 2**60 + 2**36 + 1 is just above a tie for f32; float() would first round
    # it to the tie itself and the second rounding would then go to even (down).
    n = 2**60 + 2**36 + 1
    assert f32.convert_i64_u(n) == float(2**60 + 2**37)
    assert f32.convert_i64_s((-n) % 2**64) == -float(2**60 + 2**37)
    assert f32.convert_i64_u(2**64 - 1) == 2.0**64
    assert f32.convert_i64_s(1 << 63) == -(2.0**63)


@given(numbers(F64))
def test_demote_rounds_once_and_promote_is_exact(x: float) -> None:
    result = f32.demote_f64(x)
    assert is_valid(result, F32)
    if math.isfinite(x) and x != 0:
        assert_nearest(result, exact(x), F32)
    else:
        assert f64_to_bits(result) == f64_to_bits(x)
    assert f64_to_bits(f64.promote_f32(result)) == f64_to_bits(result)


@given(nans(F64), nans(F32))
def test_demote_and_promote_quieten_nans(wide: float, narrow: float) -> None:
    demoted = f32_to_bits(f32.demote_f64(wide))
    promoted = f64_to_bits(f64.promote_f32(narrow))
    assert demoted & F32.canonical == F32.canonical
    assert promoted & F64.canonical == F64.canonical
    if f64_to_bits(wide) & ~F64.sign == F64.canonical:
        assert demoted & ~F32.sign == F32.canonical
    if f32_to_bits(narrow) & ~F32.sign == F32.canonical:
        assert promoted & ~F64.sign == F64.canonical
    # The sign and the payload's top bits survive in both directions.
    assert demoted >> 31 == f64_to_bits(wide) >> 63
    assert (promoted >> 29) & ((1 << 22) - 1) == f32_to_bits(narrow) & ((1 << 22) - 1)
