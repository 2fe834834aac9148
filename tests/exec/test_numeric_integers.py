"""Integer instructions (the Python generated from their table semantics)
against direct big-int definitions of the spec's semantics (spec 4.3.2), for
both widths, plus the truncations from floats."""

from __future__ import annotations

import math
from fractions import Fraction
from types import SimpleNamespace

import pytest
from hypothesis import given, strategies as st

from interp.errors import Trap
from interp.exec.python_semantics import functions
from interp.syntax.values import f32_from_bits, f32_round, f64_from_bits

i32, i64 = functions("i32"), functions("i64")
WIDTHS = [pytest.param(i32, 32, id="i32"), pytest.param(i64, 64, id="i64")]


def values(bits: int) -> st.SearchStrategy[int]:
    """Uniform values mixed with the edges where wrap-around and sign bugs live."""
    mask = (1 << bits) - 1
    sign = 1 << (bits - 1)
    edges = [0, 1, 2, 3, mask, mask - 1, sign, sign - 1, sign + 1, 0xFF, 0x80, 0x7F, 0xFFFF, 0x8000]
    return st.one_of(st.integers(0, mask), st.sampled_from(edges),
                     st.integers(0, 64).map(lambda k: (1 << k) & mask))


def signed(v: int, bits: int) -> int:
    return v - (1 << bits) if v >> (bits - 1) else v


def unsigned(v: int, bits: int) -> int:
    return v % (1 << bits)


def binary_reference(name: str, a: int, b: int, bits: int) -> int | str:
    """The spec's definition, spelled out with exact arithmetic; a str is a trap message."""
    sa, sb = signed(a, bits), signed(b, bits)
    k = b % bits
    if name in ("div_s", "div_u", "rem_s", "rem_u") and b == 0:
        return "integer divide by zero"
    if name == "div_s":
        q = int(Fraction(sa, sb))  # int() of a Fraction truncates toward zero
        return "integer overflow" if q >= 1 << (bits - 1) else unsigned(q, bits)
    text = format(a, f"0{bits}b")
    table = {
        "add": lambda: unsigned(a + b, bits),
        "sub": lambda: unsigned(a - b, bits),
        "mul": lambda: unsigned(a * b, bits),
        "div_u": lambda: a // b,
        "rem_s": lambda: unsigned(sa - sb * int(Fraction(sa, sb)), bits),
        "rem_u": lambda: a - b * (a // b),
        "and_": lambda: int("".join("1" if x == y == "1" else "0"
                                    for x, y in zip(text, format(b, f"0{bits}b"))), 2),
        "or_": lambda: a | b,
        "xor": lambda: a ^ b,
        "shl": lambda: int((text + "0" * k)[k:], 2),
        "shr_u": lambda: int(("0" * k + text)[:bits], 2),
        "shr_s": lambda: int((text[0] * k + text)[:bits], 2),
        "rotl": lambda: int(text[k:] + text[:k], 2),
        "rotr": lambda: int(text[bits - k:] + text[:bits - k], 2),
        "eq": lambda: int(a == b), "ne": lambda: int(a != b),
        "lt_u": lambda: int(a < b), "gt_u": lambda: int(a > b),
        "le_u": lambda: int(a <= b), "ge_u": lambda: int(a >= b),
        "lt_s": lambda: int(sa < sb), "gt_s": lambda: int(sa > sb),
        "le_s": lambda: int(sa <= sb), "ge_s": lambda: int(sa >= sb),
    }
    return table[name]()


BINARY = ["add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and_", "or_", "xor",
          "shl", "shr_s", "shr_u", "rotl", "rotr",
          "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"]


def call(function, *arguments) -> int | str:
    try:
        return function(*arguments)
    except Trap as trap:
        return trap.message


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("module,bits", WIDTHS)
@given(data=st.data())
def test_binary_against_definition(module: SimpleNamespace, bits: int, name: str, data: st.DataObject) -> None:
    a = data.draw(values(bits), label="a")
    b = data.draw(values(bits), label="b")
    result = call(getattr(module, name), a, b)
    assert result == binary_reference(name, a, b, bits)
    if not isinstance(result, str):
        assert type(result) is int and 0 <= result < 1 << bits


@pytest.mark.parametrize("module,bits", WIDTHS)
@given(data=st.data())
def test_unary_against_definition(module: SimpleNamespace, bits: int, data: st.DataObject) -> None:
    a = data.draw(values(bits))
    text = format(a, f"0{bits}b")
    assert module.clz(a) == len(text) - len(text.lstrip("0"))
    assert module.ctz(a) == len(text) - len(text.rstrip("0"))
    assert module.popcnt(a) == text.count("1")
    assert module.eqz(a) == (1 if a == 0 else 0)
    for width in (8, 16, 32):
        if width < bits:
            low = text[bits - width:]
            assert getattr(module, f"extend{width}_s")(a) == int(low[0] * (bits - width) + low, 2)


@given(values(64))
def test_wrap_and_extend_between_widths(a: int) -> None:
    low = a & 0xFFFF_FFFF
    assert i32.wrap_i64(a) == a % 2**32
    assert i64.extend_i32_u(low) == low
    assert i64.extend_i32_s(low) == unsigned(signed(low, 32), 64)


def test_division_traps_and_edges() -> None:
    for module, bits in ((i32, 32), (i64, 64)):
        minimum, minus_one = 1 << (bits - 1), (1 << bits) - 1
        with pytest.raises(Trap, match="^integer overflow$"):
            module.div_s(minimum, minus_one)
        assert module.rem_s(minimum, minus_one) == 0
        assert module.div_u(minimum, minus_one) == 0
        for name in ("div_s", "div_u", "rem_s", "rem_u"):
            with pytest.raises(Trap, match="^integer divide by zero$"):
                getattr(module, name)(minimum, 0)
        assert module.div_s(unsigned(-7, bits), 2) == unsigned(-3, bits)
        assert module.rem_s(unsigned(-7, bits), 2) == unsigned(-1, bits)
        assert module.rem_s(7, unsigned(-2, bits)) == 1


# --- truncations -----------------------------------------------------------

def f32(bits: int) -> float:
    return f32_from_bits(bits)


TRUNCATIONS = [  # (module, bits, signed, float width, the float just below/above each edge)
    (i32, 32, True, "f32"), (i32, 32, False, "f32"), (i32, 32, True, "f64"), (i32, 32, False, "f64"),
    (i64, 64, True, "f32"), (i64, 64, False, "f32"), (i64, 64, True, "f64"), (i64, 64, False, "f64"),
]


def truncation_reference(x: float, bits: int, is_signed: bool, saturating: bool) -> int | str:
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if is_signed else (0, (1 << bits) - 1)
    if math.isnan(x):
        return 0 if saturating else "invalid conversion to integer"
    if math.isinf(x):
        exact = low - 1 if x < 0 else high + 1
    else:
        exact = int(Fraction(x))
    if low <= exact <= high:
        return unsigned(exact, bits)
    if saturating:
        return unsigned(low if exact < low else high, bits)
    return "integer overflow"


def float_of_width(width: str) -> st.SearchStrategy[float]:
    if width == "f32":
        bits = st.integers(0, 2**32 - 1).map(f32_from_bits)
        near = st.floats(-2.0**65, 2.0**65, width=32)
    else:
        bits = st.integers(0, 2**64 - 1).map(f64_from_bits)
        near = st.floats(-2.0**65, 2.0**65)
    return st.one_of(bits, near)


def edges(bits: int, width: str) -> list[float]:
    """Floats around the integer range's ends, rounded to the float width."""
    out = [0.0, -0.0, 0.5, -0.5, -0.999, -1.0, math.inf, -math.inf, math.nan]
    for edge in (2.0 ** (bits - 1), 2.0**bits):
        for x in (edge, -edge):
            out.append(x)
            out.append(math.nextafter(x, 0.0))
            out.append(math.nextafter(x, math.inf if x > 0 else -math.inf))
            out.append(x + 1.0 if x < 0 else x - 1.0)
            out.append(x - 1.0 if x < 0 else x + 1.0)
    if width == "f32":
        return [f32_round(x) for x in out]
    return out


@pytest.mark.parametrize("module,bits,is_signed,width", TRUNCATIONS,
                         ids=[f"{m.__name__[-3:]}_{w}_{'s' if s else 'u'}" for m, _, s, w in TRUNCATIONS])
@given(data=st.data())
def test_truncations(module: SimpleNamespace, bits: int, is_signed: bool, width: str, data: st.DataObject) -> None:
    x = data.draw(st.one_of(float_of_width(width), st.sampled_from(edges(bits, width))))
    suffix = f"{width}_{'s' if is_signed else 'u'}"
    assert call(getattr(module, f"trunc_{suffix}"), x) == truncation_reference(x, bits, is_signed, False)
    assert call(getattr(module, f"trunc_sat_{suffix}"), x) == truncation_reference(x, bits, is_signed, True)


def test_truncation_range_edges_from_the_spec() -> None:
    assert i32.trunc_f32_s(-2147483648.0) == 0x8000_0000
    with pytest.raises(Trap, match="^integer overflow$"):
        i32.trunc_f32_s(2147483648.0)
    assert i32.trunc_f64_s(2147483647.9) == 0x7FFF_FFFF
    assert i32.trunc_f64_s(-2147483648.9) == 0x8000_0000
    with pytest.raises(Trap, match="^integer overflow$"):
        i32.trunc_f64_s(-2147483649.0)
    assert i32.trunc_f64_u(-0.999) == 0
    assert i32.trunc_f64_u(4294967295.9) == 0xFFFF_FFFF
    with pytest.raises(Trap, match="^integer overflow$"):
        i32.trunc_f64_u(-1.0)
    assert i64.trunc_f64_s(-9223372036854775808.0) == 1 << 63
    with pytest.raises(Trap, match="^integer overflow$"):
        i64.trunc_f64_s(9223372036854775808.0)
    assert i64.trunc_f64_u(18446744073709549568.0) == 18446744073709549568
    for trunc in (i32.trunc_f32_s, i64.trunc_f64_u):
        with pytest.raises(Trap, match="^integer overflow$"):
            trunc(math.inf)
        with pytest.raises(Trap, match="^invalid conversion to integer$"):
            trunc(f32(0x7FA0_0000))
    assert i32.trunc_sat_f32_s(math.inf) == 0x7FFF_FFFF
    assert i32.trunc_sat_f32_s(-math.inf) == 0x8000_0000
    assert i32.trunc_sat_f32_u(-math.inf) == 0
    assert i64.trunc_sat_f64_u(math.inf) == 2**64 - 1
    assert i64.trunc_sat_f64_s(-math.nan) == 0
