"""The numeric primitives (spec 4.3) that the Python rendering of the
semantics language calls, where a Python operator alone does not have
WebAssembly's meaning.  native/numerics.h is their C counterpart; the table's
expressions (interp/syntax/opcodes.py) say which instruction uses which.

Values are those of ``interp.syntax.values``: integers as unsigned ints (signed
ones, where the language reads a value signed, as Python ints), floats as
Python floats, an f32 being a double exactly representable in single
precision with its NaN payload in the top of the double's.  That makes every
float operation that cannot produce a *new* inexact value identical for both
widths: sign manipulation, rounding to an integral value, min/max, NaN
quieting; only results that need rounding go through ``f32_round``.

NaN rules (spec 4.3.3, "NaN propagation"): an operation producing a NaN from
non-NaN operands gives the canonical NaN; an operation with NaN operands gives
an arithmetic (quiet) NaN.  IEEE 754 hardware arithmetic (``+ - * /``)
already behaves so, so those operators are used directly; everything that goes
through a CPython library call instead (``math.sqrt``, ``round``, min/max
written with comparisons) handles NaNs explicitly here.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable, NamedTuple

from interp.syntax.values import f32_round, f64_from_bits, f64_to_bits

QUIET_BIT = 0x0008_0000_0000_0000
"""The double's quiet bit; for an f32 NaN it is also the f32 quiet bit (bit 22 + 29)."""

GENERATED_NAN: float = math.inf - math.inf
"""The NaN this machine's floating-point unit makes from operands that are
not NaNs (a canonical NaN; its sign is the hardware's: negative on x86,
positive on ARM).  Where Python refuses an operation (``sqrt`` of a negative
number, ``0 / 0``), the same NaN is given, so that the step machine and the
compiled loop, whose C arithmetic makes this NaN itself, agree bit for bit."""

_INF = math.inf
_copysign = math.copysign
_sqrt = math.sqrt
_floor = math.floor
_ceil = math.ceil

_INTEGRAL_THRESHOLD = 4503599627370496.0
"""2**52: every double (and so every f32) at least this large is an integer."""


# --- integers -------------------------------------------------------------------------------

def divide_truncating(a: int, b: int) -> int:
    """Signed division rounding toward zero (Python's ``//`` floors): for a
    negative quotient the truncation is the ceiling, ``-(-a // b)``."""
    return -(-a // b) if (a < 0) != (b < 0) else a // b


def remainder_truncating(a: int, b: int) -> int:
    """The remainder of ``divide_truncating``: it takes the dividend's sign
    (Python's ``%`` takes the divisor's)."""
    remainder = a % b
    if remainder and (a < 0) != (b < 0):
        remainder -= b
    return remainder


# --- 128-bit integers as pairs of i64 (wide-arithmetic) -------------------------------------

_MASK64 = (1 << 64) - 1


def _halves(value: int) -> tuple[int, int]:
    """A 128-bit integer (any sign, wrapped) as its low and high i64."""
    return value & _MASK64, (value >> 64) & _MASK64


def add128(a_low: int, a_high: int, b_low: int, b_high: int) -> tuple[int, int]:
    """``i64.add128``: the sum of two 128-bit integers given as (low, high) halves, wrapped."""
    return _halves((a_high << 64 | a_low) + (b_high << 64 | b_low))


def sub128(a_low: int, a_high: int, b_low: int, b_high: int) -> tuple[int, int]:
    """``i64.sub128``: the difference, wrapped."""
    return _halves((a_high << 64 | a_low) - (b_high << 64 | b_low))


def multiply_wide_signed(a: int, b: int) -> tuple[int, int]:
    """``i64.mul_wide_s``: the full 128-bit product of two signed i64."""
    return _halves((a - (a >> 63 << 64)) * (b - (b >> 63 << 64)))


def multiply_wide_unsigned(a: int, b: int) -> tuple[int, int]:
    """``i64.mul_wide_u``: the full 128-bit product of two unsigned i64."""
    return _halves(a * b)


# --- floats ---------------------------------------------------------------------------------

def quiet(x: float) -> float:
    """``x``, a NaN, with its quiet bit set and sign and payload unchanged."""
    return f64_from_bits(f64_to_bits(x) | QUIET_BIT)


def minimum(a: float, b: float) -> float:
    """IEEE ``minimum``: any NaN operand gives a NaN and -0 is less than +0."""
    if a < b:
        return a
    if b < a:
        return b
    if a == b:
        # Equal values differ at most in the sign of zero; min prefers -0.
        return a if _copysign(1.0, a) < 0.0 else b
    return quiet(a if a != a else b)


def maximum(a: float, b: float) -> float:
    """IEEE ``maximum``: any NaN operand gives a NaN and +0 is greater than -0."""
    if a > b:
        return a
    if b > a:
        return b
    if a == b:
        return a if _copysign(1.0, a) > 0.0 else b
    return quiet(a if a != a else b)


def _to_integral(x: float, rounding: Callable[[float], int]) -> float:
    """``x`` rounded to an integral value by ``rounding``, keeping the sign of
    a zero result (``ceil(-0.5)`` is ``-0.0``); a NaN comes out quiet."""
    if x != x:
        return quiet(x)
    if -_INTEGRAL_THRESHOLD < x < _INTEGRAL_THRESHOLD:
        return _copysign(float(rounding(x)), x)
    return x


def ceiling(x: float) -> float:
    return _to_integral(x, _ceil)


def floor(x: float) -> float:
    return _to_integral(x, _floor)


def truncate(x: float) -> float:
    return _to_integral(x, int)


def round_to_nearest(x: float) -> float:
    """Ties to even: Python's ``round`` of a float is exactly round-half-even."""
    return _to_integral(x, round)


def square_root(x: float) -> float:
    """The correctly rounded double square root: -0 stays -0, a negative
    operand gives the canonical NaN (``math.sqrt`` would raise)."""
    if x >= 0.0:
        return _sqrt(x)
    if x != x:
        return quiet(x)
    return GENERATED_NAN


def divide(a: float, b: float) -> float:
    """``a / b`` in IEEE arithmetic: by a zero ``b``, which Python refuses, a
    signed infinity, or the canonical NaN for 0/0, or ``a`` quietened when it
    is a NaN."""
    try:
        return a / b
    except ZeroDivisionError:
        if a != a:
            return quiet(a)
        if a == 0.0:
            return GENERATED_NAN
        return _copysign(_INF, a) * _copysign(1.0, b)


def demote(x: float) -> float:
    """Round an f64 to f32; a NaN comes out quiet (its payload's top bits kept)."""
    if x != x:
        return f32_round(quiet(x))
    return f32_round(x)


def promote(x: float) -> float:
    """An f32 is already an exact double; only a NaN changes, becoming quiet."""
    if x != x:
        return quiet(x)
    return x


_F32_PRECISION = 24
_EXACT_IN_DOUBLE = 1 << 53


def round_int_to_f32(n: int) -> float:
    """The integer ``n`` rounded to the nearest f32, ties to even.

    Going through ``float(n)`` first would round twice (to 53 bits, then to
    24) and can land on the wrong side of a tie for integers wider than 53
    bits, so those are rounded to 24 significant bits in integer arithmetic.
    """
    if -_EXACT_IN_DOUBLE < n < _EXACT_IN_DOUBLE:
        return f32_round(float(n))
    magnitude = n if n >= 0 else -n
    shift = magnitude.bit_length() - _F32_PRECISION
    kept = magnitude >> shift
    dropped = magnitude - (kept << shift)
    half = 1 << (shift - 1)
    if dropped > half or (dropped == half and kept & 1):
        kept += 1
    value = float(kept << shift)
    return value if n >= 0 else -value


# --- fused multiply-add ---------------------------------------------------------------------

class BinaryFormat(NamedTuple):
    """An IEEE 754 binary format: significand bits (with the implicit one),
    least and greatest exponent of a normal number."""

    precision: int
    min_exponent: int
    max_exponent: int


BINARY32 = BinaryFormat(24, -126, 127)
BINARY64 = BinaryFormat(53, -1022, 1023)


def fused_multiply_add(a: float, b: float, c: float, layout: BinaryFormat) -> float:
    """``a * b + c`` rounded once, to nearest (ties to even) in ``layout``:
    IEEE 754 ``fusedMultiplyAdd``.  The finite case is exact rational
    arithmetic; NaN operands give a quiet NaN of the first of them, an
    invalid operation (``inf * 0``, ``inf - inf``) the canonical NaN."""
    for x in (a, b, c):
        if x != x:
            return quiet(x)
    product_sign = _copysign(1.0, a) * _copysign(1.0, b)
    if math.isinf(a) or math.isinf(b):
        if a == 0.0 or b == 0.0 or (math.isinf(c) and _copysign(1.0, c) != product_sign):
            return GENERATED_NAN
        return _copysign(_INF, product_sign)
    if math.isinf(c):
        return c
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    if exact == 0:
        # An exact zero is -0 only when both addends are negative zeros or round to them.
        negative = product_sign < 0.0 and _copysign(1.0, c) < 0.0 and a * b == 0.0
        return -0.0 if negative else 0.0
    return _round_rational(exact, layout)


def _round_rational(value: Fraction, layout: BinaryFormat) -> float:
    """The nonzero rational ``value`` rounded to nearest, ties to even, in
    ``layout`` (subnormals and overflow to infinity included)."""
    magnitude = abs(value)
    numerator, denominator = magnitude.numerator, magnitude.denominator
    exponent = numerator.bit_length() - denominator.bit_length()  # floor(log2) or one more
    if (numerator < denominator << exponent) if exponent >= 0 else (numerator << -exponent < denominator):
        exponent -= 1
    quantum = max(exponent, layout.min_exponent) - (layout.precision - 1)
    if quantum >= 0:
        significand, remainder = divmod(numerator, denominator << quantum)
        twice, unit = remainder * 2, denominator << quantum
    else:
        significand, remainder = divmod(numerator << -quantum, denominator)
        twice, unit = remainder * 2, denominator
    if twice > unit or (twice == unit and significand & 1):
        significand += 1
    if significand.bit_length() + quantum - 1 > layout.max_exponent:
        result = _INF
    else:
        result = math.ldexp(significand, quantum)
    return result if value > 0 else -result
