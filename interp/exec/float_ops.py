"""Floating-point semantics shared by ``f32`` and ``f64`` (spec 4.3.3).

Both widths are Python floats (see ``interp.syntax.values``): an f32 value is a
double that happens to be exactly representable in single precision, and an
f32 NaN keeps its sign, quiet bit and payload in the same places a double NaN
does (payload shifted up by 29).  That makes every operation that cannot
produce a *new* inexact value identical for both widths: sign manipulation,
rounding to an integral value, min/max and NaN quieting.  Those live here once
(the comparisons are Python's operators, shared with the integers in
``int_ops``); ``f32.py`` and ``f64.py`` bind them under the instruction names
and add only what differs, the rounding of inexact results.

NaN rules (spec 4.3.3, "NaN propagation"): an operation producing a NaN from
non-NaN operands gives the canonical NaN; an operation with NaN operands gives
an arithmetic (quiet) NaN, canonical when all NaN operands are.  IEEE 754
hardware arithmetic (``+ - * /``) already behaves so: it quietens signalling
NaNs and either propagates an operand's payload or returns the default NaN, so
those operators are used directly on the hot path.  Everything that goes
through a CPython library call instead (``math.sqrt``, ``round``, min/max
written with comparisons) handles NaNs explicitly here.
"""

from __future__ import annotations

import math

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
_fabs = math.fabs
_sqrt = math.sqrt
_floor = math.floor
_ceil = math.ceil

_INTEGRAL_THRESHOLD = 4503599627370496.0
"""2**52: every double (and so every f32) at least this large is an integer."""


def quiet(x: float) -> float:
    """``x``, a NaN, with its quiet bit set and sign and payload unchanged."""
    return f64_from_bits(f64_to_bits(x) | QUIET_BIT)


def negate(x: float) -> float:
    """Flip the sign bit only; C negation is a bit operation, so NaN payloads
    and signalling bits survive (spec: ``fneg`` is not arithmetic)."""
    return -x


def absolute(x: float) -> float:
    """Clear the sign bit only (``fabs`` is a bit operation in C)."""
    return _fabs(x)


def copy_sign(a: float, b: float) -> float:
    """``a`` with the sign bit of ``b``; exact on NaNs of either operand."""
    return _copysign(a, b)


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


def ceiling(x: float) -> float:
    """Round up to an integral value; the sign of a zero result follows ``x``
    (``ceil(-0.5)`` is ``-0.0``)."""
    if x != x:
        return quiet(x)
    if -_INTEGRAL_THRESHOLD < x < _INTEGRAL_THRESHOLD:
        return _copysign(float(_ceil(x)), x)
    return x


def floor(x: float) -> float:
    """Round down to an integral value, keeping the sign of a zero result."""
    if x != x:
        return quiet(x)
    if -_INTEGRAL_THRESHOLD < x < _INTEGRAL_THRESHOLD:
        return _copysign(float(_floor(x)), x)
    return x


def truncate(x: float) -> float:
    """Round toward zero to an integral value, keeping the sign (``trunc(-0.5)`` is ``-0.0``)."""
    if x != x:
        return quiet(x)
    if -_INTEGRAL_THRESHOLD < x < _INTEGRAL_THRESHOLD:
        return _copysign(float(int(x)), x)
    return x


def round_to_nearest(x: float) -> float:
    """Round to the nearest integral value, ties to even, keeping the sign of
    a zero result (``nearest(-0.5)`` is ``-0.0``).  Python's ``round`` of a
    float is exactly round-half-even."""
    if x != x:
        return quiet(x)
    if -_INTEGRAL_THRESHOLD < x < _INTEGRAL_THRESHOLD:
        return _copysign(float(round(x)), x)
    return x


def square_root(x: float) -> float:
    """The correctly rounded double square root: -0 stays -0, a negative
    operand gives the canonical NaN (``math.sqrt`` would raise)."""
    if x >= 0.0:
        return _sqrt(x)
    if x != x:
        return quiet(x)
    return GENERATED_NAN


def quotient_by_zero(a: float, b: float) -> float:
    """``a / b`` for a zero ``b``, which Python refuses to compute: a signed
    infinity, or the canonical NaN for 0/0, or ``a`` quietened when it is a NaN."""
    if a != a:
        return quiet(a)
    if a == 0.0:
        return GENERATED_NAN
    return _copysign(_INF, a) * _copysign(1.0, b)


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
